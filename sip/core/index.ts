export * from './requestChecks.js';
