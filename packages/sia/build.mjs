// The single-file bundle for container images: node dist/siad.mjs, no node_modules needed.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('./src/bundle-entry.ts', import.meta.url).pathname],
  outfile: new URL('./dist/siad.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: false,
  legalComments: 'none',
  // The AWS SDK is CommonJS and requires node built-ins; ESM output needs a real require for them.
  banner: { js: "import { createRequire as __siadCreateRequire } from 'node:module'; const require = __siadCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
