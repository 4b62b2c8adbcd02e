export * from './requestChecks.js';
export * from './overload.js';
