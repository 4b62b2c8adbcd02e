#!/usr/bin/env node
/**
 * Writes an instance's full config: config/default.yaml with an instance overlay
 * (deploy/cluster/instance-*.yaml) merged over it, objects key by key, anything else
 * replaced (as `npm run cluster:demo` merges them). Used by the compose profile "cluster"
 * (docker-compose.yml) inside the callwatch image:
 *
 *   node deploy/cluster/instance-config.mjs OVERLAY OUT [DEFAULTS]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import YAML from 'yaml';

const [overlayFile, outFile, defaultsFile = 'config/default.yaml'] = process.argv.slice(2);
if (overlayFile === undefined || outFile === undefined) {
  process.stderr.write('usage: instance-config.mjs OVERLAY OUT [DEFAULTS]\n');
  process.exit(2);
}

function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; anything else replaces. */
function merge(base, over) {
  const out = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] = isObject(out[k]) && isObject(v) ? merge(out[k], v) : v;
  return out;
}

const defaults = YAML.parse(readFileSync(defaultsFile, 'utf8'));
const overlay = YAML.parse(readFileSync(overlayFile, 'utf8'));
writeFileSync(outFile, YAML.stringify(merge(defaults, overlay)));
