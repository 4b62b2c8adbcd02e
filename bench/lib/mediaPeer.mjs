/**
 * The rtpengine peer of the relay benches: the peers' run_media.sh N (PEERS in
 * bench/lib/benchRuntime.mjs says where; SIPp UAC →
 * Kamailio → SIPp UAS, media anchored on rtpengine, 30 s of A-law each way per call), its
 * installation when missing, and the parser of its summary (analyze_media.py's output,
 * which relaySipp.bench.mjs also produces for callwatch).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PEERS, have, sh, stop, track, waitExit } from './benchRuntime.mjs';

export function ensureRtpengine() {
  if (have('rtpengine') && have('rtpengine-ctl')) return true;
  console.log(
    'rtpengine missing: apt-get install -y --no-install-recommends rtpengine-daemon rtpengine-utils',
  );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    sh(
      'timeout',
      [
        '600',
        'apt-get',
        'install',
        '-y',
        '--no-install-recommends',
        'rtpengine-daemon',
        'rtpengine-utils',
      ],
      { env, stdio: 'inherit' },
    );
  let r = install();
  if (r.status !== 0) {
    sh('timeout', ['300', 'apt-get', 'update'], { env, stdio: 'inherit' });
    r = install();
  }
  sh('systemctl', ['stop', 'rtpengine-daemon']); // the packaged service is not used
  return have('rtpengine') && have('rtpengine-ctl');
}

export function parseMediaSummary(text) {
  const num = (re) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : null;
  };
  return {
    verdict: /^verdict: (\w+)/m.exec(text)?.[1] ?? '?',
    lossPct: num(/ loss=([\d.]+)%/),
    ppsPerPct: num(/-> (\d+) pps per % CPU/),
    usPerPkt: num(/\(([\d.]+) us CPU per relayed packet\)/),
    cpu: /^cpu % of one core[^:]*: (.*)$/m.exec(text)?.[1] ?? '?',
    run: /(\/tmp\/peers\/media-[\w-]+)/.exec(text)?.[1] ?? null,
  };
}

export async function runMediaPeer(calls) {
  // run_media.sh bounds its SIPps itself (-m, -timeout, outer timeout); this is the outer bound.
  const child = track(
    spawn('timeout', ['300', path.join(PEERS, 'run_media.sh'), String(calls)], {
      cwd: PEERS,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  if (!(await waitExit(child, 320000))) await stop(child, 'SIGTERM', 15000);
  return { ...parseMediaSummary(out), exit: child.exitCode, raw: out };
}
