#!/usr/bin/env node
/**
 * Writes an instance's full config: config/default.yaml with an instance overlay
 * (deploy/cluster/instance-*.yaml) merged over it, objects key by key, anything else
 * replaced (as `npm run cluster:demo` merges them). Used by the compose profile "cluster"
 * (docker-compose.yml) inside the callwatch image:
 *
 *   node deploy/cluster/instance-config.mjs OVERLAY OUT [DEFAULTS]
 *
 * `mergeConfig` is the one merge rule, imported by scripts/cluster-demo.mjs too.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import YAML from 'yaml';

function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; anything else replaces. */
export function mergeConfig(base, over) {
  const out = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] = isObject(out[k]) && isObject(v) ? mergeConfig(out[k], v) : v;
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [overlayFile, outFile, defaultsFile = 'config/default.yaml'] = process.argv.slice(2);
  if (overlayFile === undefined || outFile === undefined) {
    process.stderr.write('usage: instance-config.mjs OVERLAY OUT [DEFAULTS]\n');
    process.exit(2);
  }
  const defaults = YAML.parse(readFileSync(defaultsFile, 'utf8'));
  const overlay = YAML.parse(readFileSync(overlayFile, 'utf8'));
  writeFileSync(outFile, YAML.stringify(mergeConfig(defaults, overlay)));
}
