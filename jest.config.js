/** Jest runs the TypeScript sources as ES modules through SWC (fast, no type-check:
 * `npm run typecheck` does that). Two projects: every test, with the media engine on its
 * default packet io (native); and the media integration tests once more on node:dgram
 * (the reference implementation), so both carry the same suite. One file of
 * test/integration/media/ thus runs twice; `--selectProjects tests` runs it once. */
const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  // Sources import with the `.js` suffix NodeNext requires; map back to the `.ts` file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  testTimeout: 30000,
};

export default {
  // Read from the top level (a project's own testTimeout is not applied).
  testTimeout: 30000,
  projects: [
    { ...base, displayName: 'tests', testMatch: ['<rootDir>/test/**/*.test.ts'] },
    {
      ...base,
      displayName: 'media on dgram',
      testMatch: ['<rootDir>/test/integration/media/*.test.ts'],
      setupFiles: ['<rootDir>/test/setup/mediaIoDgram.ts'],
    },
  ],
};
