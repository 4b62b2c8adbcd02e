/**
 * Config loading through the real CLI: invalid configs stop the start with a message
 * that names the offending key; a missing file is reported with its path; the config
 * can also come from CALLWATCH_CONFIG. Bad configs still get free ports, so a server
 * that wrongly starts cannot disturb anything, and runCli kills it after its timeout.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { allocatePort } from '../helpers/ports.js';
import { removeTempDir } from '../helpers/processes.js';
import {
  loadDefaultConfig,
  mergeConfig,
  runCli,
  startServer,
  writeTempConfig,
  type CliRun,
  type ConfigObject,
} from '../helpers/server.js';

const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) removeTempDir(d);
});

async function configWith(overrides: ConfigObject): Promise<string> {
  const port = await allocatePort();
  const httpPort = await allocatePort({ udp: false });
  const base = mergeConfig(loadDefaultConfig(), {
    sip: { listen: { address: '127.0.0.1', udpPort: port, tcpPort: port } },
    http: { address: '127.0.0.1', port: httpPort },
  });
  const file = writeTempConfig(mergeConfig(base, overrides));
  dirs.push(path.dirname(file));
  return file;
}

function describeRun(r: CliRun): string {
  return `exit ${r.code ?? r.signal}${r.timedOut ? ' (had to be killed: it did not exit)' : ''}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

function expectRefused(r: CliRun, mentions: RegExp[]): void {
  const all = `${r.stdout}\n${r.stderr}`;
  const ok = !r.timedOut && r.code !== null && r.code !== 0 && mentions.every((m) => m.test(all));
  if (!ok)
    throw new Error(
      `expected a non-zero exit mentioning ${mentions.join(', ')}\n${describeRun(r)}`,
    );
}

describe('config validation', () => {
  it('refuses a non-numeric sip.listen.udpPort, naming the key', async () => {
    const file = await configWith({ sip: { listen: { udpPort: 'abc' } } });
    expectRefused(await runCli(['--config', file]), [/sip\.listen\.udpPort/]);
  });

  it('refuses an unknown key (sip.lisen), naming it', async () => {
    const file = await configWith({ sip: { lisen: { udpPort: 5070 } } });
    expectRefused(await runCli(['--config', file]), [/lisen/]);
  });

  it('reports both problems of a config that has both', async () => {
    const file = await configWith({
      sip: { listen: { udpPort: 'abc' }, lisen: { udpPort: 5070 } },
    });
    expectRefused(await runCli(['--config', file]), [/sip\.listen\.udpPort/, /lisen/]);
  });

  it('refuses a config file that does not exist, naming the path', async () => {
    const missing = path.join(path.dirname(await configWith({})), 'no-such-config.yaml');
    expectRefused(await runCli(['--config', missing]), [
      new RegExp(missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    ]);
  });

  it('refuses a file that is not valid YAML', async () => {
    const file = writeTempConfig({}, 'sip: [unclosed\n  listen: {\n');
    dirs.push(path.dirname(file));
    const r = await runCli(['--config', file]);
    expectRefused(r, [/./]);
  });

  it('reads the config from CALLWATCH_CONFIG', async () => {
    const server = await startServer({}, { configVia: 'env' });
    try {
      const res = await server.httpGet('/healthz');
      expect(res.status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
