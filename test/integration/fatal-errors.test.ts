/**
 * A bug that escapes (an unhandled rejection, an uncaught exception) does not leave a
 * half-dead server: the CLI logs it (fatal, with the error), closes the server as for
 * SIGTERM (its ports free again) and exits 1 for its supervisor to restart it. The fault
 * is raised inside the real server process by a preloaded module (test/fixtures).
 */
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { isPortFree } from '../helpers/ports.js';
import { REPO_ROOT, startServer } from '../helpers/server.js';

const INJECT = path.join(REPO_ROOT, 'test/fixtures/inject-fault.mjs');

describe.each([
  ['rejection', 'unhandledRejection', 'injected unhandled rejection'],
  ['exception', 'uncaughtException', 'injected uncaught exception'],
])('a fault (%s) in the server process', (fault, kind, message) => {
  it('is logged fatal with the error, and the server shuts down cleanly with exit code 1', async () => {
    const server = await startServer(
      {},
      { env: { NODE_OPTIONS: `--import ${INJECT}`, CALLWATCH_TEST_FAULT: fault } },
    );
    expect((await server.httpGet('/healthz')).status).toBe(200);
    server.process.kill('SIGUSR2');
    const fatal = await server.waitForLog((e) => e.kind === kind);
    expect(fatal).toMatchObject({ level: 60, err: { message } });
    // It stops by itself (no SIGTERM from us: that would be a second signal).
    await server.waitForLog((e) => e.msg === 'stopped', 10_000);
    const child = server.process;
    const code = await new Promise<number | null>((resolve) => {
      if (child.exitCode !== null) resolve(child.exitCode);
      else child.once('exit', (c) => resolve(c));
    });
    expect(code).toBe(1);
    expect(await server.stop({ expectCode: 1 })).toBe(1);
    const msgs = server.logs().map((e) => e.msg);
    expect(msgs.join('\n')).not.toMatch(/still open at exit/);
    expect(await isPortFree(server.sipPort, { udp: true, tcp: true })).toBe(true);
    expect(await isPortFree(server.httpPort, { udp: false, tcp: true })).toBe(true);
  });
});
