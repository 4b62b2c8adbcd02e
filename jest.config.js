/** Jest runs the TypeScript sources as ES modules through SWC (fast, no type-check:
 * `npm run typecheck` does that). Three projects: every test, with the media engine and
 * the SIP UDP socket on their default io (native); the media integration tests once more
 * on node:dgram (the reference implementation); and the SIP transport and integration
 * tests once more with SIP over node:dgram; so both implementations carry the same
 * suites. Those files thus run twice; `--selectProjects tests` runs them once. */
const base = {
  // Node's, plus the helpers' last-resort cleanup of children and temp dirs per file.
  testEnvironment: '<rootDir>/test/setup/environment.mjs',
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
    {
      ...base,
      displayName: 'sip on dgram',
      testMatch: [
        '<rootDir>/test/unit/sip/stack.test.ts',
        '<rootDir>/test/unit/sip/transport/udp.test.ts',
        '<rootDir>/test/integration/register-*.test.ts',
        '<rootDir>/test/integration/calls-sipp.test.ts',
        '<rootDir>/test/integration/torture.test.ts',
      ],
      setupFiles: ['<rootDir>/test/setup/sipIoDgram.ts'],
    },
  ],
};
