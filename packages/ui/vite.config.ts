// Vite builds the single-page app into dist/, which `tessera serve` serves at /.
// esbuild's own JSX transform is enough: no React plugin (fast refresh is not needed).
import { defineConfig } from 'vite';

export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Everything as files: the Content-Security-Policy allows no inline code or data: URLs.
    assetsInlineLimit: 0,
  },
  server: {
    // `npm run dev -w packages/ui` next to `tessera serve`: the API stays same-origin through the proxy.
    proxy: { '/zms': { target: 'https://localhost:4443', secure: false } },
  },
});
