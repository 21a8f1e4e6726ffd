// The bundle for container images: dist/siad.mjs and the chunks it loads on demand (dist/chunks/), no node_modules needed.
// Split, so that what a command does not use is never read: -version loads only the entry, the daemon
// its own chunk, and the AWS SDK, certificate code and gRPC come in when first needed.
import { cpSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const outdir = new URL('./dist', import.meta.url).pathname;

// Node's built-ins as their CommonJS objects, never through their ES module views. Node builds a
// built-in's ES view by reading every export once, lazy getters too: from Node 22 on, node:http's
// WebSocket getter thereby loads undici, http2 and worker_threads (4 MB more for siad on Node 24), and on
// Node 22 under --lite-mode, which has no WebAssembly, undici's start throws and the process exits
// (docs/benchmarks.md). As a CommonJS module, a built-in is read one name at a time, where code uses it.
const builtinsAsCommonJs = {
  name: 'builtins-as-commonjs',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: 'node-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (a) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(a.path)});`,
      loader: 'js',
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [new URL('./src/bundle-entry.ts', import.meta.url).pathname],
  outdir,
  entryNames: 'siad',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  platform: 'node',
  // The AWS SDK's ES module builds: named exports survive the dynamic import (its CommonJS builds lose them in a split bundle).
  mainFields: ['module', 'main'],
  format: 'esm',
  target: 'node20',
  minify: false,
  legalComments: 'none',
  // The AWS SDK is CommonJS and requires node built-ins; ESM output needs a real require for them.
  banner: { js: "import { createRequire as __siadCreateRequire } from 'node:module'; const require = __siadCreateRequire(import.meta.url);" },
  plugins: [builtinsAsCommonJs],
  logLevel: 'warning',
});
// The socket's .proto files, read at run time from ../proto of the chunk that serves them.
cpSync(new URL('./proto', import.meta.url).pathname, `${outdir}/proto`, { recursive: true });
