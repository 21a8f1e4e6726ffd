// `npm run build`: tessera's server as compiled JavaScript, so that a production
// start loads no TypeScript compiler: node packages/server/dist/tessera.mjs serve.
// ESM with every dependency bundled except native modules (better-sqlite3) and
// optional ones pg may load: dist/tessera.mjs and the chunks it loads on demand.
// It runs from the checkout, next to node_modules and packages/ui/dist: paths
// that code finds through import.meta.url (the UI's files, the demo's helper
// binaries) resolve as they do from the sources.
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** Each module's import.meta.url stays its source file's URL, not the bundle's. */
const sourceUrls = {
  name: 'source-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\/packages\/[^/]+\/src\/.*\.tsx?$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      return {
        contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
        loader: args.path.endsWith('x') ? 'tsx' : 'ts',
      };
    });
  },
};

const dist = new URL('./dist/', import.meta.url).pathname;
rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: { tessera: new URL('./src/production-entry.ts', import.meta.url).pathname },
  outdir: dist,
  // Code only `tessera demo` and `tessera aws-sim` use (aws-sim, siad, the AWS SDK) goes into
  // chunks loaded by those commands, so a `tessera serve` process neither loads nor keeps it.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', 'pg-native'],
  plugins: [sourceUrls],
  // Smaller source text is less memory held for the life of the process. Identifiers are not
  // shortened, so functions and classes keep readable names (error types in logs; a digit is added
  // where two modules' names collide) without esbuild's keepNames, whose __name() call on every
  // closure created cost about 4 % of a role certificate and 6 MB of idle RSS.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  // CommonJS dependencies require node built-ins; ESM output needs a real require for them.
  banner: { js: "import { createRequire as __tesseraCreateRequire } from 'node:module'; const require = __tesseraCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
