/**
 * The compose profile "cluster" (docker-compose.yml) proven without a Docker engine: the
 * file validates with docker-compose, the profile holds the topology of
 * `npm run cluster:demo` (Redis, Kamailio, instances a and b on the host's network), every
 * file it mounts or names exists where the containers expect it, and each instance's
 * config, merged by deploy/cluster/instance-config.mjs as the container does, is accepted
 * by the server's own loader with the demo's addresses. Not run here: building the images
 * and starting the containers.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { COMPOSE_FILE, readYaml } from '../../helpers/deployFiles.js';
import { makeTempDir, removeTempDir } from '../../helpers/processes.js';
import { REPO_ROOT } from '../../helpers/server.js';
import { parseConfig } from '../../../src/config/load.js';

type Service = {
  image?: string;
  build?: string | { context: string };
  profiles?: string[];
  network_mode?: string;
  entrypoint?: string[];
  command?: string[];
  volumes?: string[];
  depends_on?: string[];
};
const services = () => (readYaml(COMPOSE_FILE) as { services: Record<string, Service> }).services;

/** `./host/path:/container/path[:ro]` → [host path (absolute), container path]. */
function mounts(s: Service): Array<[string, string]> {
  return (s.volumes ?? [])
    .map((v) => v.split(':'))
    .filter(([src]) => src!.startsWith('./'))
    .map(([src, dst]) => [path.join(REPO_ROOT, src!), dst!]);
}

/** The container path `file` (in the repo) is seen at, through `s`'s mounts. */
function inContainer(s: Service, file: string): string | undefined {
  for (const [src, dst] of mounts(s)) {
    if (file === src || file.startsWith(`${src}/`))
      return path.posix.join(dst, path.relative(src, file));
  }
  return undefined;
}

describe('docker-compose.yml, profile "cluster"', () => {
  it('validates with docker-compose with the profile on', () => {
    const r = spawnSync(
      'docker-compose',
      ['-f', COMPOSE_FILE, '--profile', 'cluster', 'config', '-q'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 60000,
      },
    );
    expect({ status: r.status, err: r.stderr }).toEqual({ status: 0, err: '' });
  });

  it('holds Redis, Kamailio and instances a and b, on the host network, only in the profile', () => {
    const all = services();
    const cluster = Object.entries(all)
      .filter(([, s]) => s.profiles?.includes('cluster'))
      .map(([n]) => n)
      .sort();
    expect(cluster).toEqual(['callwatch-a', 'callwatch-b', 'kamailio', 'redis']);
    // The default stack is unchanged: no profile, same services.
    const always = Object.entries(all)
      .filter(([, s]) => s.profiles === undefined)
      .map(([n]) => n)
      .sort();
    expect(always).toEqual(['callwatch', 'grafana', 'prometheus']);
    for (const name of cluster) {
      expect({ name, network: all[name]!.network_mode }).toEqual({ name, network: 'host' });
    }
    // `up kamailio` starts everything: Kamailio needs both instances, they need Redis.
    expect(all.kamailio!.depends_on?.sort()).toEqual(['callwatch-a', 'callwatch-b']);
    expect(all['callwatch-a']!.depends_on).toEqual(['redis']);
    expect(all['callwatch-b']!.depends_on).toEqual(['redis']);
    // The instances run the image the default stack builds.
    expect(all['callwatch-a']!.image).toBe(all.callwatch!.image);
    expect(all['callwatch-b']!.image).toBe(all.callwatch!.image);
    expect(all.redis!.command).toEqual(
      expect.arrayContaining(['--port', '6379', '--bind', '127.0.0.1']),
    );
  });

  it("runs Kamailio on the repo's config and dispatcher list, from a Debian 5.6 image", () => {
    const kam = services().kamailio!;
    const build = typeof kam.build === 'string' ? kam.build : kam.build!.context;
    const dockerfile = readFileSync(path.join(REPO_ROOT, build, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM debian:bookworm-slim$/m);
    expect(dockerfile).toMatch(/apt-get install .*\bkamailio\b/);
    const cmd = kam.command!;
    const cfg = cmd[cmd.indexOf('-f') + 1]!;
    expect(cfg).toBe(inContainer(kam, path.join(REPO_ROOT, 'deploy/kamailio/kamailio.cfg')));
    const dsList = cmd.find((a) => a.startsWith('DS_LIST='))!;
    expect(dsList).toBe(
      `DS_LIST="${inContainer(kam, path.join(REPO_ROOT, 'deploy/kamailio/dispatcher.list'))}"`,
    );
    // The list names the two instances where their configs make them listen.
    const list = readFileSync(path.join(REPO_ROOT, 'deploy/kamailio/dispatcher.list'), 'utf8');
    expect(list).toMatch(/^1 sip:127\.0\.0\.2:5060 /m);
    expect(list).toMatch(/^1 sip:127\.0\.0\.3:5060 /m);
    // The cfg's module path is where Debian's package puts the modules.
    const text = readFileSync(path.join(REPO_ROOT, 'deploy/kamailio/kamailio.cfg'), 'utf8');
    expect(text).toMatch(/^mpath="\/usr\/lib\/x86_64-linux-gnu\/kamailio\/modules\/"$/m);
  });

  it.each([
    ['callwatch-a', 'a', '127.0.0.2'],
    ['callwatch-b', 'b', '127.0.0.3'],
  ])(
    '%s merges deploy/cluster/instance-%s.yaml into a config the server accepts',
    (name, id, address) => {
      const s = services()[name]!;
      const script = s.entrypoint!.join(' ');
      const m =
        /node (deploy\/cluster\/instance-config\.mjs) (\S+) (\S+) && exec node dist\/src\/cli\.js --config (\S+)$/.exec(
          script,
        );
      expect(m).not.toBeNull();
      const [, merger, overlay, out, used] = m!;
      expect(used).toBe(out);
      // The image's working directory is /app: the mount puts deploy/cluster there.
      for (const file of [merger!, overlay!]) {
        expect(existsSync(path.join(REPO_ROOT, file))).toBe(true);
        expect(inContainer(s, path.join(REPO_ROOT, file))).toBe(`/app/${file}`);
      }
      const dir = makeTempDir('compose-cluster');
      try {
        const merged = path.join(dir, 'callwatch.yaml');
        const r = spawnSync(process.execPath, [merger!, overlay!, merged], {
          cwd: REPO_ROOT,
          encoding: 'utf8',
          timeout: 30000,
        });
        expect({ status: r.status, err: r.stderr }).toEqual({ status: 0, err: '' });
        const config = parseConfig(YAML.parse(readFileSync(merged, 'utf8')), merged);
        expect(config.sip.listen).toMatchObject({ address, udpPort: 5060 });
        expect(config.http).toMatchObject({ address, port: 8080 });
        expect(config.cluster).toMatchObject({
          instanceId: id,
          redis: { url: 'redis://127.0.0.1:6379' },
          trustedProxies: ['127.0.0.1'],
        });
        // The demo's extensions come from config/default.yaml.
        expect(config.extensions.map((e) => e.number)).toContain('1001');
        // The instances share the recordings and audit volumes: each writes its own part.
        expect(config.recording.directory).toBe(`recordings/${id}`);
        expect(config.audit.file).toBe(`audit/${id}/monitoring.jsonl`);
      } finally {
        removeTempDir(dir);
      }
    },
  );
});
