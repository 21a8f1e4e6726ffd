/**
 * The README's walkthrough, run as written, so the README cannot drift from
 * the product.
 *
 * Convention (also stated in a comment in README.md): every ```sh block
 * between the "## Walkthrough" heading and the next "## " heading is part of
 * the walkthrough, in order. A block right after `<!-- walkthrough: terminal 1 -->`
 * is the terminal the README asks to leave open: it runs in the background
 * (its own process group) and the rest waits until its ports answer. A block
 * right after `<!-- walkthrough: skip -->` is for real AWS and is not run. All
 * other blocks run in order in one bash shell (`set -e`), as typed in the
 * second terminal.
 *
 * The harness changes only what a fresh machine would not share with this
 * one: a temp dir as the repository root (links to packages/, docs/,
 * node_modules/ and package.json; everything the walkthrough writes lands
 * there), HOME in that dir (zms-cli's ~/.ntoken), and free ports in place of
 * 4443, 8443 and 4566 so that it runs beside other servers (in the commands'
 * text, and for serve's defaults through TESSERA_ZMS_PORT / TESSERA_ZTS_PORT).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@tessera/core/free-port';
import { parseCertificate } from '@tessera/core/x509/certificate';

const ROOT = new URL('..', import.meta.url).pathname;

interface Block {
  mode: 'foreground' | 'background' | 'skip';
  code: string;
}

/** The walkthrough's ```sh blocks, with the marker before each. */
function walkthroughBlocks(readme: string): Block[] {
  const start = readme.search(/^## Walkthrough/m);
  assert.ok(start >= 0, 'README.md has a "## Walkthrough" section');
  const rest = readme.slice(start + 3);
  const end = rest.search(/^## /m);
  const section = end >= 0 ? rest.slice(0, end) : rest;
  const blocks: Block[] = [];
  for (const m of section.matchAll(/(?:<!-- walkthrough: (terminal 1|skip) -->\s*\n)?```sh\n([\s\S]*?)```/g)) {
    blocks.push({ mode: m[1] === 'terminal 1' ? 'background' : m[1] === 'skip' ? 'skip' : 'foreground', code: m[2] });
  }
  return blocks;
}

function waitForPort(port: number, deadline: number, bg: ChildProcess, log: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (bg.exitCode !== null) return reject(new Error(`terminal 1 exited (${bg.exitCode}) before port ${port} answered:\n${log()}`));
      if (Date.now() > deadline) return reject(new Error(`port ${port} did not answer:\n${log()}`));
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => setTimeout(attempt, 250));
    };
    attempt();
  });
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-readme-'));
let terminal1: ChildProcess | undefined;
after(() => {
  // The background terminal is its own process group: aws-sim (`&`) and serve end with it.
  if (terminal1?.pid && terminal1.exitCode === null) process.kill(-terminal1.pid, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

test('the README walkthrough runs as written and ends with a 7-day certificate', { timeout: 600_000 }, async () => {
  const blocks = walkthroughBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  assert.equal(blocks.filter((b) => b.mode === 'background').length, 1, 'one block for terminal 1');
  assert.ok(blocks.filter((b) => b.mode === 'foreground').length >= 5, 'the second terminal\'s blocks');

  for (const entry of ['packages', 'docs', 'node_modules', 'package.json']) symlinkSync(join(ROOT, entry), join(dir, entry));
  mkdirSync(join(dir, 'home'));
  const ports: Record<string, number> = { 4443: await freePort(), 8443: await freePort(), 4566: await freePort() };
  const withPorts = (code: string) => code.replace(/\b(4443|8443|4566)\b/g, (p) => String(ports[p]));
  // A shell as a new user has it; NODE_OPTIONS and TESSERA_NODE24_ADDONS carry over so that the Node 24
  // run (scripts/test-node24.sh) loads its own build of the SQLite driver in the README's commands too.
  const passOn = Object.fromEntries(['NODE_OPTIONS', 'TESSERA_NODE24_ADDONS'].filter((k) => process.env[k]).map((k) => [k, process.env[k]!]));
  const env = { PATH: process.env.PATH ?? '', HOME: join(dir, 'home'), LANG: 'C.UTF-8', TESSERA_LOG_LEVEL: 'warn', ...passOn };

  let log1 = '';
  const background = blocks.find((b) => b.mode === 'background')!;
  const serverEnv = { ...env, TESSERA_ZMS_PORT: String(ports[4443]), TESSERA_ZTS_PORT: String(ports[8443]) };
  terminal1 = spawn('bash', ['-c', withPorts(background.code)], { cwd: dir, env: serverEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  terminal1.stdout!.on('data', (d) => (log1 += d));
  terminal1.stderr!.on('data', (d) => (log1 += d));
  const deadline = Date.now() + 180_000;
  for (const port of Object.values(ports)) await waitForPort(port, deadline, terminal1, () => log1);
  // serve prints its summary after it listens, and its output reaches this process a moment later: wait for both.
  const summary = /Log in +user admin, password: the one in TESSERA_ADMIN_PASSWORD/;
  while (!(existsSync(join(dir, 'aws-sim.env')) && summary.test(log1)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  assert.match(log1, summary, 'serve printed its summary');

  const script = ['set -eo pipefail', ...blocks.filter((b) => b.mode === 'foreground').map((b, i) => `echo '### block ${i + 1}'\n${withPorts(b.code)}`)].join('\n');
  const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
  assert.equal(run.code, 0, `the walkthrough failed:\n${run.out}\n--- terminal 1:\n${log1}`);
  assert.match(run.out, /access: granted/);
  assert.match(run.out, /✓ ZTS's verdict: .* a register would succeed/, 'siad -cmd diagnose passed');
  // The EKS pod by its projected token, no STS call for it; the Fargate task by the STS fallback, once.
  assert.match(run.out, /attestation by eks-token/);
  assert.match(run.out, /attestation by sts/);
  const awsCalls = run.out.split('\n').filter((l) => l.startsWith('tessera_zts_aws_calls_total'));
  assert.ok(awsCalls.some((l) => l.includes('oidc-provider-lookup')), `ZTS looked the issuer up in the account:\n${awsCalls.join('\n')}`);
  assert.ok(!awsCalls.some((l) => l.includes('sts-attestation')), `no STS call for the pod:\n${awsCalls.join('\n')}`);

  for (const sia of ['sia-pod', 'sia']) {
    const certPath = join(dir, sia, 'certs/sports.api.cert.pem');
    assert.ok(existsSync(certPath), `${certPath} exists`);
    const cert = parseCertificate(readFileSync(certPath, 'utf8'));
    assert.equal(cert.commonName, 'sports.api');
    assert.equal(Math.round((cert.notAfter.getTime() - cert.notBefore.getTime()) / 86_400_000), 7, `${sia}: valid 7 days`);
    assert.ok(cert.notAfter.getTime() > Date.now() + 6 * 86_400_000, 'and valid now');
    assert.match(execFileSync('openssl', ['verify', '-CAfile', join(dir, 'data/ca.cert.pem'), certPath], { encoding: 'utf8' }), /: OK/);
    assert.ok(existsSync(join(dir, sia, 'keys/sports.api.key.pem')), `${sia}: the key is there`);
  }
  assert.ok(existsSync(join(dir, 'sia/certs/sports:role.readers.cert.pem')), 'the role certificate the examples ask for');
});
