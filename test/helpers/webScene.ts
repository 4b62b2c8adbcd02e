/**
 * The set-up the web app's end-to-end tests share: one server for the file with real
 * phones (startPhoneServer), a pool of baresip phones killed after each test, a wait
 * until the server has no call left (a test that failed mid-call leaves its call to the
 * RTP timeout: the next starts clean), and the two origins the pages use.
 *
 *   const scene = useWebScene({ monitoring: { enabled: true } }, EXTENSIONS);
 *   it('…', async () => { const p = await scene.phones.phone('1001', 1000); … });
 *
 * The supervisor's pages run on http://127.0.0.1:PORT and the agent's on
 * http://localhost:PORT: one browser, two origins, so two cookie jars (two sign-ins).
 */
import { afterAll, afterEach, beforeAll } from '@jest/globals';
import { PhonePool, startPhoneServer, waitFor } from './phoneScene.js';
import type { ConfigObject, ExtensionSpec, ServerHandle } from './server.js';

export interface WebScene {
  /** The server (started in beforeAll). */
  readonly server: ServerHandle;
  readonly phones: PhonePool;
  supervisorBase(): string;
  agentBase(): string;
}

/**
 * Registers the hooks and returns the scene. `config` may be a function, called in
 * beforeAll (for ports allocated there); `cleanUp` runs after each test, before the
 * phones are killed (e.g. closing the test's own desk phones).
 */
export function useWebScene(
  config: ConfigObject | (() => Promise<ConfigObject>),
  extensions: readonly ExtensionSpec[],
  cleanUp?: () => Promise<void>,
): WebScene {
  let server: ServerHandle | undefined;
  const started = (): ServerHandle => {
    if (server === undefined) throw new Error('the web scene has no server (beforeAll failed?)');
    return server;
  };
  const phones = new PhonePool(started);
  beforeAll(async () => {
    server = await startPhoneServer(
      typeof config === 'function' ? await config() : config,
      extensions,
    );
  }, 30000);
  afterEach(async () => {
    await cleanUp?.();
    await phones.killAll();
    if (server === undefined) return;
    const s = server;
    await waitFor(async () => {
      const r = await s.httpGet('/v1/calls');
      return (r.json as { calls: unknown[] }).calls.length === 0;
    }, 40000);
  }, 45000);
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get server() {
      return started();
    },
    phones,
    supervisorBase: () => `http://127.0.0.1:${started().httpPort}`,
    agentBase: () => `http://localhost:${started().httpPort}`,
  };
}
