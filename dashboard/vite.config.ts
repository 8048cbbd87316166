import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard is a static bundle served by Trialog itself (src/http/dashboard.ts) on the
// same origin as /graphql. No framework preset: Vite's own JSX transform targets Preact.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Hashed file names: served immutable; index.html is the only file that changes name-stably.
    assetsDir: 'assets',
    // No inline <script> or data: URLs, so the Content-Security-Policy needs no 'unsafe-inline'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: { proxy: { '/graphql': { target: 'http://127.0.0.1:4000', ws: true } } },
});
