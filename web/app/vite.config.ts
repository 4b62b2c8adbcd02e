/**
 * The web app's build (Vite + Preact) into dist/app/, served by the server at / (its
 * hashed files under /assets/); and its component tests (Vitest, happy-dom). For
 * development, `npx vite web/app` serves it with the API proxied to a local server
 * (CALLWATCH_URL, default http://127.0.0.1:8080).
 */
import preact from '@preact/preset-vite';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = path.dirname(fileURLToPath(import.meta.url));
const server = process.env.CALLWATCH_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: here,
  base: '/',
  plugins: [preact()],
  publicDir: false,
  build: {
    outDir: path.resolve(here, '../../dist/app'),
    emptyOutDir: true,
    sourcemap: true,
    target: ['chrome110', 'firefox110', 'safari16'],
  },
  server: {
    proxy: {
      '/v1': { target: server, ws: true },
      '/sip': { target: server, ws: true },
      '/openapi.json': server,
    },
  },
  test: {
    root: here,
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
