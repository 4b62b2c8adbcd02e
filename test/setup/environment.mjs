/**
 * The test files' environment: Node's, plus the child-process helpers' last-resort
 * cleanup once a file is done (test/helpers/processes.ts). Jest gives each file a copy of
 * `process` whose 'exit' listeners the real process never calls, so the helpers register
 * their cleanup on the file's global instead, and this environment's teardown, which runs
 * after the file's last hook, calls it: children left running by a failed beforeAll or a
 * crashed test are killed, and temp directories left behind are removed.
 */
import { TestEnvironment } from 'jest-environment-node';

/** The global the helpers set (test/helpers/processes.ts, CLEANUP_GLOBAL). */
const CLEANUP_GLOBAL = '__callwatchTestCleanup';

export default class CallwatchTestEnvironment extends TestEnvironment {
  async teardown() {
    const cleanup = this.global[CLEANUP_GLOBAL];
    if (typeof cleanup === 'function') {
      try {
        cleanup();
      } catch (error) {
        process.stderr.write(`test cleanup failed: ${String(error)}\n`);
      }
    }
    await super.teardown();
  }
}
