import { defineConfig } from 'vite';

// The build goes into internal/ui/dist, which the Go binary embeds
// (go:embed cannot reach outside its package directory). The UI is served
// under /ui/, so assets are referenced from there.
export default defineConfig({
  base: '/ui/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: '../internal/ui/dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
    chunkSizeWarningLimit: 200,
  },
  server: {
    // `npm run dev` proxies the API to a `sluice serve` on the default port.
    proxy: { '/api': 'http://127.0.0.1:9280', '/insert': 'http://127.0.0.1:9280' },
  },
});
