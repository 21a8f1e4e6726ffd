/**
 * `tessera serve` as a person starts it: the startup summary (URLs, data dir,
 * store, CA file, how to log in) and, when a port is taken, an error that names
 * the flag and the variable that change it, with a non-zero exit; the same
 * for `tessera demo` (npm run demo) with its own flags.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@tessera/core/free-port';
import { createServer } from 'node:net';
import { waitFor } from './support/wait-for.ts';

const bin = fileURLToPath(new URL('../bin/tessera.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tessera-serve-cmd-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

function serve(args: string[], env: Record<string, string> = {}): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const { TESSERA_ADMIN_PASSWORD: _drop, ...base } = process.env;
  const child = spawn(process.execPath, [bin, 'serve', ...args], { env: { ...base, TESSERA_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

/** Waits until `what()` holds; fails if serve exits first or after a deadline, with what it printed. */
async function until(what: () => boolean, run: { exit: Promise<unknown>; out: () => string; err: () => string }, label: string): Promise<void> {
  let exited = false;
  void run.exit.then(() => (exited = true));
  await waitFor(label, () => {
    if (exited && !what()) throw new Error(`serve exited before ${label}:\n${run.out()}${run.err()}`);
    return what();
  }, { timeoutMs: 60_000, state: () => run.out() + run.err() });
}

test('serve prints where everything is and how to log in; a busy port names its flag and variable', async () => {
  const [zmsPort, ztsPort] = [await freePort(), await freePort()];
  const dataDir = join(dir, 'data');
  const first = serve(['--data-dir', dataDir, '--zms-port', String(zmsPort), '--zts-port', String(ztsPort)]);
  await until(() => first.out().includes('Log in'), first, 'the summary');
  const out = first.out();
  assert.match(out, new RegExp(`ZMS API +https://localhost:${zmsPort}/zms/v1`));
  assert.match(out, new RegExp(`ZTS API +https://localhost:${ztsPort}/zts/v1`));
  assert.match(out, new RegExp(`Web UI +https://localhost:${zmsPort}/ .*certificate`));
  assert.match(out, new RegExp(`Data dir +${dataDir}`));
  assert.match(out, new RegExp(`Store +${join(dataDir, 'tessera.db')}`));
  assert.match(out, new RegExp(`CA file +${join(dataDir, 'ca.cert.pem')}`));
  // No TESSERA_ADMIN_PASSWORD on first start: the generated password, once.
  assert.match(out, /Log in +user admin, password: \S{12,} +\(generated now and shown only once/);
  assert.match(out, /another terminal/);

  // Same ZMS port: refused with the flag and the variable, non-zero exit.
  const zmsBusy = serve(['--data-dir', join(dir, 'other'), '--zms-port', String(zmsPort), '--zts-port', '0']);
  assert.equal(await zmsBusy.exit, 1);
  assert.match(zmsBusy.err(), new RegExp(`port ${zmsPort} on 127\\.0\\.0\\.1 is in use .*choose another with --zms-port or TESSERA_ZMS_PORT`));

  const ztsBusy = serve(['--data-dir', join(dir, 'other'), '--zms-port', '0'], { TESSERA_ZTS_PORT: String(ztsPort) });
  assert.equal(await ztsBusy.exit, 1);
  assert.match(ztsBusy.err(), new RegExp(`port ${ztsPort} on 127\\.0\\.0\\.1 is in use .*choose another with --zts-port or TESSERA_ZTS_PORT`));

  first.child.kill('SIGTERM');
  assert.equal(await first.exit, 0);

  // A restart with TESSERA_ADMIN_PASSWORD: the summary says where the password came from, and prints none.
  const again = serve(['--data-dir', dataDir, '--zms-port', '0', '--zts-port', '0'], { TESSERA_ADMIN_PASSWORD: 'not-printed-secret' });
  await until(() => again.out().includes('Log in'), again, 'the summary');
  assert.match(again.out(), /Log in +user admin, password: the one in TESSERA_ADMIN_PASSWORD when this data dir was first started/);
  assert.doesNotMatch(again.out(), /not-printed-secret/);
  again.child.kill('SIGTERM');
  assert.equal(await again.exit, 0);
});

test('npm run demo on a busy port names the demo\'s port flags (and no variable it would ignore)', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const busy = (blocker.address() as { port: number }).port;
  try {
    const child = spawn(process.execPath, [bin, 'demo', '--once', '--data-dir', join(dir, 'demo'), '--zms-port', String(busy), '--zts-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 1, err);
    assert.match(err, new RegExp(`port ${busy} on 127\\.0\\.0\\.1 is in use .*choose another with --zms-port \\(npm run demo -- --zms-port <port>; the other is --zts-port\\)`));
    assert.doesNotMatch(err, /EADDRINUSE|TESSERA_ZMS_PORT/);
  } finally {
    blocker.close();
  }
});
