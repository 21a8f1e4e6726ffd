/** Serving the built UI: files, SPA fallback, strict CSP, the 503 page when not built, API paths left alone. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { CONTENT_SECURITY_POLICY, uiRoutes } from '../src/server/ui-routes.ts';

let dir: string;
let app: FastifyInstance;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-ui-'));
  mkdirSync(join(dir, 'dist/assets'), { recursive: true });
  writeFileSync(join(dir, 'dist/index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(dir, 'dist/assets/index-abc.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'outside the dist dir');
  app = Fastify();
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ code: 404, message: 'No such endpoint' }));
  await app.register(uiRoutes, {
    distDir: join(dir, 'dist'),
    providers: [{ template: 't1', label: 'Provider one', principal: 'p.one' }],
    dnsSuffix: 'zts.example.net',
    ztsPort: () => ztsPort,
  });
});
/** Known only once ZTS listens: /ui-config.json asks each time. */
let ztsPort: number | undefined;

after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

test('pages fall back to index.html with a strict Content-Security-Policy', async () => {
  for (const url of ['/', '/domain/sports/services', '/login?next=%2F']) {
    const res = await app.inject({ url });
    assert.equal(res.statusCode, 200, url);
    assert.equal(res.body, '<!doctype html><title>app</title>');
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  }
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
  assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe/);
});

test('assets are served with their type and cached for good; a missing one is a 404, not the app', async () => {
  const js = await app.inject({ url: '/assets/index-abc.js' });
  assert.equal(js.statusCode, 200);
  assert.match(String(js.headers['content-type']), /^text\/javascript/);
  assert.match(String(js.headers['cache-control']), /immutable/);
  const missing = await app.inject({ url: '/assets/gone.js' });
  assert.equal(missing.statusCode, 404);
});

test('paths cannot leave the dist directory', async () => {
  for (const url of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
    const res = await app.inject({ url });
    assert.notEqual(res.body, 'outside the dist dir', url);
  }
});

test('unknown API paths stay JSON 404s; the provider list, ZTS port and DNS suffix are served as configured', async () => {
  const api = await app.inject({ url: '/zms/v1/nothing-here' });
  assert.equal(api.statusCode, 404);
  assert.deepEqual(api.json(), { code: 404, message: 'No such endpoint' });
  const config = await app.inject({ url: '/ui-config.json' });
  assert.deepEqual(config.json(), { providers: [{ template: 't1', label: 'Provider one', principal: 'p.one' }], dnsSuffix: 'zts.example.net' });
  ztsPort = 18443;
  assert.equal((await app.inject({ url: '/ui-config.json' })).json().ztsPort, 18443);
});

test('without a build, / answers 503 saying how to build the UI', async () => {
  const bare = Fastify();
  await bare.register(uiRoutes, { distDir: join(dir, 'not-built') });
  const res = await bare.inject({ url: '/' });
  assert.equal(res.statusCode, 503);
  assert.match(res.body, /npm run build -w packages\/ui/);
  assert.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
  await bare.close();
});
