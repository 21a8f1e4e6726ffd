/**
 * Serves the built single-page app (packages/ui/dist) at `/` beside the ZMS
 * API: files as they are, any other page path falls back to index.html (the
 * app routes in the browser). Every answer carries a strict
 * Content-Security-Policy: scripts, styles and API calls from this origin only.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DEFAULT_PROVIDERS, type ProviderConfig } from '../app/providers.ts';

export interface UiRoutesOptions {
  /** The built app; default packages/ui/dist. */
  distDir?: string;
  /** The identity providers offered in the Services tab (default: EC2/EKS/Fargate and ECS in us-west-2). */
  providers?: ProviderConfig[];
  /** ZTS's port, asked on each request (it is known once ZTS listens); shown in the siad command of Next steps. */
  ztsPort?: () => number | undefined;
  /** The DNS suffix of AWS workload certificates (siad -dnsdomains). */
  dnsSuffix?: string;
}

export const DEFAULT_DIST_DIR = fileURLToPath(new URL('../../dist', import.meta.url));

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** API prefixes: an unknown API path is a JSON 404, never the app's HTML. */
const API_PREFIXES = ['/zms/', '/zts/'];

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tessera UI not built</title></head>
<body><h1>The Tessera web UI has not been built</h1>
<p>The server is running and the API answers at <code>/zms/v1</code>, but there is no built UI to serve.</p>
<p>Build it, then reload this page:</p>
<pre>npm run build -w packages/ui</pre>
<p>(<code>bash scripts/setup.sh</code> does this too.)</p>
</body></html>
`;

export async function uiRoutes(app: FastifyInstance, opts: UiRoutesOptions = {}): Promise<void> {
  const dist = resolve(opts.distDir ?? DEFAULT_DIST_DIR);
  const config = (): string => JSON.stringify({ providers: opts.providers ?? DEFAULT_PROVIDERS, ztsPort: opts.ztsPort?.(), dnsSuffix: opts.dnsSuffix });

  const secure = (reply: FastifyReply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    return reply;
  };

  app.get('/ui-config.json', async (_req, reply) =>
    secure(reply).type(CONTENT_TYPES['.json']).header('cache-control', 'no-cache').send(config()),
  );

  app.get('/*', async (req, reply) => {
    const path = decodePath(req.url.split('?')[0]);
    if (path === undefined) return secure(reply).code(400).type('text/plain; charset=utf-8').send('Bad path');
    if (API_PREFIXES.some((p) => path.startsWith(p))) return reply.callNotFound();

    const file = await fileInside(dist, path);
    if (file) {
      const body = await readFile(file);
      // Vite puts a content hash in asset names: those never change, everything else is revalidated.
      const immutable = path.startsWith('/assets/');
      return secure(reply)
        .type(CONTENT_TYPES[extname(file)] ?? 'application/octet-stream')
        .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
        .send(body);
    }
    // A missing file (it has an extension) is a 404; any other path is a page of the app.
    if (extname(path) !== '') return secure(reply).code(404).type('text/plain; charset=utf-8').send(`Not found: ${path}`);
    const index = await fileInside(dist, '/index.html');
    if (!index) return secure(reply).code(503).type(CONTENT_TYPES['.html']).header('cache-control', 'no-store').send(NOT_BUILT_PAGE);
    return secure(reply).type(CONTENT_TYPES['.html']).header('cache-control', 'no-cache').send(await readFile(index));
  });
}

function decodePath(raw: string): string | undefined {
  try {
    const path = decodeURIComponent(raw);
    return path.includes('\0') ? undefined : path;
  } catch {
    return undefined;
  }
}

/** The regular file at `path` under `root`, or undefined; `..` cannot leave the root. */
async function fileInside(root: string, path: string): Promise<string | undefined> {
  const full = resolve(join(root, path));
  if (full !== root && !full.startsWith(root + sep)) return undefined;
  try {
    return (await stat(full)).isFile() ? full : undefined;
  } catch {
    return undefined;
  }
}
