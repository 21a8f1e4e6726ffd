/**
 * The server's log: request lines at debug level (so not at the default
 * level), audit lines at info/warn, a request id sent back to the client,
 * readable lines on a terminal and JSON otherwise.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpsJson } from '@tessera/core/https-client';
import { freePort } from '@tessera/core/free-port';
import { serverConfig } from '../src/server-config.ts';
import { ADMIN_PASSWORD, startTestServer, TEST_LOG_DIR, type TestServer } from './support/test-server.ts';
import { waitFor } from './support/wait-for.ts';

const BIN = new URL('../bin/tessera.js', import.meta.url).pathname;

describe('at the default level (info)', () => {
  let t: TestServer;
  let log: () => Record<string, unknown>[];
  before(async () => {
    t = await startTestServer('sqlite', { logLevel: 'info' });
    const file = join(TEST_LOG_DIR, `${t.dataDir.split('/').pop()}.log`);
    log = () => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  });
  after(() => t?.close());

  test('sign-ins are audit lines; requests are not logged; the request id comes back', async () => {
    await assert.rejects(t.login('admin', 'wrong'), /401/);
    const res = await t.admin.call('GET', '/domain');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['x-request-id']), /^[0-9a-f]{12}$/);

    const lines = log();
    assert.equal(lines.filter((l) => l.event === 'request').length, 0, 'request lines are debug');
    const failure = lines.find((l) => l.event === 'signin.failure')!;
    assert.equal(failure.level, 40);
    assert.equal(failure.user, 'admin');
    assert.equal(failure.reason, 'Invalid user name or password');
    assert.equal(failure.server, 'zms');
    assert.match(String(failure.reqId), /^[0-9a-f]{12}$/);
    const success = lines.find((l) => l.event === 'signin.success')!;
    assert.equal(success.level, 30);
    assert.equal(success.user, 'admin');
  });
});

/** Runs `tessera serve` (under `script` for a terminal), waits for /healthz, requests it, and returns what it printed. */
async function serveOnce(dir: string, extra: string[], tty: boolean): Promise<string> {
  const [zmsPort, ztsPort] = [await freePort(), await freePort()];
  const args = [BIN, 'serve', '--data-dir', dir, '--zms-port', String(zmsPort), '--zts-port', String(ztsPort), '--log-level', 'debug', ...extra];
  const command = tty ? 'script' : process.execPath;
  const argv = tty ? ['-qefc', [process.execPath, ...args].map((a) => `'${a}'`).join(' '), '/dev/null'] : args;
  const child = spawn(command, argv, { env: { ...process.env, TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    await waitFor('GET /healthz to answer 200', async () => {
      try {
        const ca = readFileSync(join(dir, 'ca.cert.pem'), 'utf8');
        return (await httpsJson({ url: `https://localhost:${ztsPort}/healthz`, ca })).status === 200;
      } catch {
        return false; // not listening (or no CA file) yet
      }
    }, { timeoutMs: 120_000, intervalMs: 200, state: () => out });
    // The request line is written when the response is done: wait for it (terminal or JSON form).
    await waitFor('the request line of GET /healthz', () => /path=\/healthz status=200|"path":"\/healthz"/.test(out), { timeoutMs: 10_000, state: () => out });
    return out;
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

describe('tessera serve output', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-log-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('on a terminal: readable lines (time, level, event, message, key=value)', async () => {
    const out = await serveOnce(dir, [], true);
    assert.match(out, /^\d\d:\d\d:\d\d\.\d{3} DEBUG request server=zts reqId=[0-9a-f]{12} method=GET path=\/healthz status=200 ms=[\d.]+ ip=127\.0\.0\.1\r?$/m, out);
    assert.doesNotMatch(out, /"level":/);
  });

  test('not a terminal: one JSON object per line', async () => {
    const out = await serveOnce(dir, [], false);
    const json = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const line = json.find((l) => l.event === 'request' && l.path === '/healthz');
    assert.ok(line, out);
    assert.equal(line.level, 20);
    assert.equal(line.status, 200);
  });

  test('--log-format json on a terminal too', async () => {
    const out = await serveOnce(dir, ['--log-format', 'json'], true);
    assert.match(out, /^\{"level":20,.*"event":"request".*"path":"\/healthz"/m);
  });

  test('an unknown --log-format is refused with what it takes', () => {
    assert.throws(() => serverConfig({ logFormat: 'xml' }, {}), /--log-format takes json or pretty, got "xml"/);
    assert.throws(() => serverConfig({}, { TESSERA_LOG_FORMAT: 'yaml' }), /--log-format takes json or pretty, got "yaml"/);
  });
});
