#!/usr/bin/env node
/**
 * Builds the phone page (web/phone/) into dist/phone/: SIP.js and the page's code bundled
 * for the browser by esbuild (one ES module, minified, with a source map), beside the
 * HTML and CSS. `npm run build` runs it; the server serves dist/phone/ at /phone.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'web/phone');
const out = path.join(root, 'dist/phone');

mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(source, 'main.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  outfile: path.join(out, 'phone.js'),
  logLevel: 'warning',
});
for (const file of ['index.html', 'phone.css']) {
  copyFileSync(path.join(source, file), path.join(out, file));
}
