#!/usr/bin/env node
/**
 * Builds the native packet io addon (native/, binding.gyp) with node-gyp; run by
 * `npm install` / `npm ci` (the root package's install script) and by
 * scripts/install-test-peers.sh. The output, build/Release/callwatch_native.node, is
 * what media/io/nativeBinding.ts loads.
 *
 * node-gyp: the one npm bundles (npm_config_node_gyp in an npm script's environment),
 * else the one next to this Node's npm. Headers: npm's nodedir setting when there is
 * one, else this Node's own (<prefix>/include/node) when installed — never a download
 * when the headers are already here.
 *
 * A failed build is not a failed install: the script explains in one paragraph and
 * exits 0, and the server then runs on node:dgram (media.io falls back with a warning).
 *
 *   node scripts/build-native.mjs              build (rebuild)
 *   node scripts/build-native.mjs --if-missing only when the addon is not built yet
 *
 * CALLWATCH_SKIP_NATIVE_BUILD=1 skips the build (the Dockerfile's runtime stage copies the
 * addon its build stage compiled).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { URL, fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADDON = join(ROOT, 'build/Release/callwatch_native.node');

function say(message) {
  process.stderr.write(`build-native: ${message}\n`);
}

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(
      dirname(process.execPath),
      '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    ),
  ];
  return candidates.find((path) => path !== undefined && path !== '' && existsSync(path));
}

/** --nodedir when npm has none configured and this Node ships its headers. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include/node/node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function fallback(what) {
  say(
    `the native packet io addon was not built: ${what}. ` +
      'To build it, install a C++ compiler and its tools (Debian/Ubuntu: ' +
      '`apt-get install g++ make python3`) and run `node scripts/build-native.mjs`. ' +
      'Until then the server runs its media on node:dgram (media.io falls back to dgram ' +
      'and logs a warning); everything works, at a higher CPU cost per packet.',
  );
  process.exit(0);
}

if (process.env.CALLWATCH_SKIP_NATIVE_BUILD === '1') process.exit(0);
if (process.argv.includes('--if-missing') && existsSync(ADDON)) process.exit(0);
if (process.platform !== 'linux') {
  say(
    `skipped: the native packet io is Linux-only (this is ${process.platform}); media runs on node:dgram.`,
  );
  process.exit(0);
}
const gyp = nodeGyp();
if (gyp === undefined) fallback('node-gyp was not found (npm bundles it; is npm installed?)');
const result = spawnSync(process.execPath, [gyp, 'rebuild', '--loglevel=warn', ...nodedirArgs()], {
  cwd: ROOT,
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (result.error !== undefined) fallback(`node-gyp did not run (${result.error.message})`);
if (result.status !== 0 || !existsSync(ADDON)) {
  fallback(`node-gyp exited with ${result.status ?? result.signal} (its output is above)`);
}
