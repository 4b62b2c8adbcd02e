/**
 * Starting an instance whose configured Redis cannot be reached: the start fails (a
 * configured cluster that ran alone would split the shared state silently), names
 * `cluster.redis` and the reason, closes what it had opened and exits by itself. The
 * `cluster` block is validated at load.
 */
import { describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { allocatePort, allocateRtpRange, isPortFree } from '../../helpers/ports.js';
import { makeTempDir, removeTempDir } from '../../helpers/processes.js';
import { loadDefaultConfig, mergeConfig, runCli, type ConfigObject } from '../../helpers/server.js';

async function configFile(
  cluster: ConfigObject,
): Promise<{ file: string; dir: string; sipPort: number }> {
  const dir = makeTempDir('cluster-start');
  const sipPort = await allocatePort();
  const config = mergeConfig(loadDefaultConfig(), {
    sip: { listen: { address: '127.0.0.1', udpPort: sipPort, tcpPort: sipPort } },
    http: { address: '127.0.0.1', port: await allocatePort({ udp: false }) },
    media: { portRange: await allocateRtpRange(), workers: 1 },
    recording: { directory: path.join(dir, 'recordings') },
    audit: { file: path.join(dir, 'audit', 'monitoring.jsonl') },
    cluster,
  });
  const file = path.join(dir, 'callwatch.yaml');
  writeFileSync(file, YAML.stringify(config));
  return { file, dir, sipPort };
}

describe('an instance with cluster.redis', () => {
  it('refuses to start when Redis cannot be reached, naming cluster.redis', async () => {
    const nobody = await allocatePort({ udp: false });
    const s = await configFile({ redis: { url: `redis://127.0.0.1:${nobody}` } });
    try {
      const r = await runCli(['--config', s.file], { timeoutMs: 20000 });
      const all = `${r.stdout}\n${r.stderr}`;
      expect({
        timedOut: r.timedOut,
        failed: r.code !== 0 && r.code !== null,
        namesKey: /cluster\.redis/.test(r.stderr),
        namesRedis: new RegExp(`127\\.0\\.0\\.1:${nobody}`).test(r.stderr),
        // The line names what was open (process.getActiveResourcesInfo()), when any was.
        leftOpen: /^.*still open at exit.*$/m.exec(all)?.[0] ?? false,
        listened: /"msg":"listening"/.test(r.stdout),
      }).toEqual({
        timedOut: false,
        failed: true,
        namesKey: true,
        namesRedis: true,
        leftOpen: false,
        listened: false,
      });
      expect(await isPortFree(s.sipPort, { udp: true, tcp: true })).toBe(true);
    } finally {
      removeTempDir(s.dir);
    }
  }, 30000);

  it('refuses a call expiry not longer than its refresh, and a URL that is not redis://', async () => {
    const s = await configFile({
      redis: { url: 'http://127.0.0.1:6379' },
      callRefreshMs: 2000,
      callTtlMs: 2000,
    });
    try {
      const r = await runCli(['--config', s.file], { timeoutMs: 20000 });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/cluster\.redis\.url: a redis:\/\/ or rediss:\/\/ URL/);
      expect(r.stderr).toMatch(/cluster\.callTtlMs: must be longer than callRefreshMs \(2000\)/);
    } finally {
      removeTempDir(s.dir);
    }
  }, 30000);
});
