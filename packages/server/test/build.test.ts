/**
 * The production build: `npm run build` compiles the server to one JavaScript
 * file that starts without the TypeScript loader, serves the API and the UI,
 * and defaults to one worker per core.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { httpsJson } from '@tessera/core/https-client';
import { freePort } from '@tessera/core/free-port';
import { ADMIN_PASSWORD } from './support/test-server.ts';

const SERVER = new URL('..', import.meta.url).pathname;
const BUNDLE = join(SERVER, 'dist', 'tessera.mjs');
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-build-'));
  await promisify(execFile)(process.execPath, [join(SERVER, 'build.mjs')], { timeout: 180_000 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the bundle carries no TypeScript loader', () => {
  const text = readFileSync(BUNDLE, 'utf8');
  assert.doesNotMatch(text, /tsx\/esm|from\s*["'][^"']+\.ts["']/);
});

test('node dist/tessera.mjs serve: one worker per core by default, API and UI answer', async () => {
  const [zmsPort, ztsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [BUNDLE, 'serve', '--data-dir', dir, '--zms-port', String(zmsPort), '--zts-port', String(ztsPort), '--log-level', 'warn'], {
    env: { ...process.env, TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD, TESSERA_WORKERS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    for (let i = 0; i < 1200 && !/^ {2}Store {5}\S/m.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /^ {2}Store {5}\S/m, out);
    const cores = availableParallelism();
    if (cores > 1) assert.match(out, new RegExp(`^ {2}Workers {3}${cores}$`, 'm'));
    else assert.doesNotMatch(out, /^ {2}Workers /m);
    const ca = readFileSync(join(dir, 'ca.cert.pem'), 'utf8');
    const login = await httpsJson<{ token: string }>({
      url: `https://localhost:${zmsPort}/zms/v1/user/_self_/token`, ca,
      headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
    });
    assert.equal(login.status, 200, login.text);
    const wrong = await httpsJson<{ code: number; message: string }>({ url: `https://localhost:${zmsPort}/zms/v1/domain/nosuch`, ca, headers: { authorization: `Bearer ${login.body.token}` } });
    assert.equal(wrong.status, 404);
    assert.match(wrong.body.message, /nosuch/);
    const ui = await httpsJson<string>({ url: `https://localhost:${zmsPort}/`, ca, headers: { accept: 'text/html' } });
    assert.equal(ui.status, 200);
    assert.match(ui.text, /<html/i);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});
