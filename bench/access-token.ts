/**
 * Access token issuance: Tessera's ZTS `POST /oauth2/token` (client
 * credentials over keep-alive mTLS, the role check on the domain snapshot,
 * an ES256 JWT bound to the client certificate) next to, in the same run:
 *   - ZTS `POST /rolecert` on the same server (the certificate figure), and
 *   - a bare Node + jose token server (bench/peers/jose-token-server.ts),
 *     the floor for "HTTPS request in, signed JWT out".
 * Each server is its own process, warmed up until its CPU per request settles
 * (support/warm-up.ts); CPU per request is read from /proc.
 *
 *   node --import tsx bench/access-token.ts [--requests N] [--concurrency C]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { httpsJson } from '@tessera/core/https-client';
import { createCsr } from '@tessera/core/x509/csr';
import { issueCertificate } from '@tessera/core/x509/issue';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { freePort } from '@tessera/core/free-port';
import { afterOnePoll, processStats, productionStart, start } from './support/process.ts';
import { describeWarmUp, warmUntilSettled } from './support/warm-up.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const ADMIN_PASSWORD = 'bench-admin-password';

const { values: opts } = parseArgs({
  options: { requests: { type: 'string', default: '3000' }, concurrency: { type: 'string', default: '8' } },
});
const REQUESTS = Number(opts.requests);
const CONCURRENCY = Number(opts.concurrency);
if (!(REQUESTS > 0 && CONCURRENCY > 0)) throw new Error('--requests and --concurrency take positive numbers');

interface Target {
  name: string;
  pid: number;
  url: string;
  contentType: string;
  body: () => string;
  /** Throws unless the answer is what was asked for. */
  check: (json: unknown) => Promise<void> | void;
}

interface Result {
  name: string;
  perSecond: number;
  p50: number;
  p99: number;
  cpuMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function load(t: Target, agent: Agent, n: number, checkEvery: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const one = () =>
    new Promise<unknown>((resolve, reject) => {
      const body = t.body();
      const req = request(t.url, { method: 'POST', agent, headers: { 'content-type': t.contentType, 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${t.name}: ${res.statusCode} ${text}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const started = performance.now();
      const json = await one();
      latencies.push(performance.now() - started);
      if (i % checkEvery === 0) await t.check(json);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return latencies;
}

async function measure(t: Target, agent: Agent): Promise<Result> {
  // Warm-up until the server's CPU per request settles, every answer checked.
  console.log(describeWarmUp(t.name, await warmUntilSettled(t.pid, (n) => load(t, agent, n, 1))));
  const before = processStats(t.pid).cpuSeconds;
  const started = performance.now();
  const latencies = (await load(t, agent, REQUESTS, 50)).sort((a, b) => a - b);
  const seconds = (performance.now() - started) / 1000;
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return { name: t.name, perSecond: REQUESTS / seconds, p50: pct(50), p99: pct(99), cpuMs: ((processStats(t.pid).cpuSeconds - before) * 1000) / REQUESTS };
}

function print(results: Result[]): void {
  const base = results[0];
  const rows = [
    ['server', 'req/s', 'p50 ms', 'p99 ms', 'server CPU ms/req', 'CPU vs. first row'],
    ...results.map((r) => [r.name, r.perSecond.toFixed(0), r.p50.toFixed(1), r.p99.toFixed(1), r.cpuMs.toFixed(3), `${(r.cpuMs / base.cpuMs).toFixed(2)}x`]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-tokens-'));
  const children: ChildProcess[] = [];
  try {
    const tessera = await start(
      process.execPath,
      [...productionStart(), 'serve', '--data-dir', join(dir, 'tessera'), '--zms-port', '0', '--zts-port', '0', '--log-level', 'error'],
      { ...process.env, TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD },
      / {2}Store {5}.*\n/,
    );
    children.push(tessera.child);
    const zmsUrl = /ZMS API\s+(\S+)/.exec(tessera.out())![1];
    const ztsUrl = /ZTS API\s+(\S+)/.exec(tessera.out())![1];
    const caPem = readFileSync(join(dir, 'tessera/ca.cert.pem'), 'utf8');
    const caKeyPem = readFileSync(join(dir, 'tessera/ca.key.pem'), 'utf8');

    const login = await httpsJson<{ token: string }>({
      url: `${zmsUrl}/user/_self_/token`,
      ca: caPem,
      headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
    });
    for (const [method, path, body] of [
      ['POST', '/domain', { name: 'bench', adminUsers: ['user.admin'] }],
      ['PUT', '/domain/bench/service/api', { name: 'bench.api' }],
      ['PUT', '/domain/bench/role/readers', { name: 'bench:role.readers', roleMembers: [{ memberName: 'bench.api' }] }],
    ] as const) {
      const r = await httpsJson({ method, url: `${zmsUrl}${path}`, body, ca: caPem, headers: { authorization: `Bearer ${login.body.token}` } });
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    }
    await afterOnePoll(); // every worker sees the new domain

    // bench.api's service certificate, as ZTS would have issued it to siad.
    const client = generateKeyPair('ec');
    const now = Date.now();
    const serviceCert = await issueCertificate({
      ca: { certPem: caPem, keyPem: caKeyPem },
      publicKeyPem: client.publicKeyPem,
      subject: { commonName: 'bench.api' },
      uris: ['spiffe://bench/sa/api'],
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 86_400_000),
      usage: 'client',
    });
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: caPem, cert: serviceCert.certPem, key: client.privateKeyPem });

    const keys = await httpsJson<JSONWebKeySet>({ url: `${ztsUrl}/oauth2/keys?rfc=true`, ca: caPem });
    const jwks = createLocalJWKSet(keys.body);
    const roleCsr = await createCsr({
      keyPem: client.privateKeyPem,
      subject: { commonName: 'bench:role.readers' },
      uris: ['spiffe://bench/ra/readers', 'athenz://principal/bench.api'],
    });

    const peerPort = await freePort();
    const peer = await start(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bench/peers/jose-token-server.ts'), String(peerPort), join(dir, 'tessera/ca.cert.pem'), join(dir, 'tessera/server.cert.pem'), join(dir, 'tessera/server.key.pem')],
      process.env,
      /listening/,
    );
    children.push(peer.child);

    const form = () => 'grant_type=client_credentials&scope=bench:role.readers&expires_in=3600';
    const targets: Target[] = [
      {
        name: 'Tessera ZTS /oauth2/token',
        pid: tessera.child.pid!,
        url: `${ztsUrl}/oauth2/token`,
        contentType: 'application/x-www-form-urlencoded',
        body: form,
        check: async (j) => {
          const { payload } = await jwtVerify((j as { access_token: string }).access_token, jwks, { audience: 'bench' });
          if ((payload.scp as string[])[0] !== 'readers') throw new Error('wrong scope');
        },
      },
      {
        name: 'Tessera ZTS /rolecert (same server)',
        pid: tessera.child.pid!,
        url: `${ztsUrl}/rolecert`,
        contentType: 'application/json',
        body: () => JSON.stringify({ csr: roleCsr, expiryTime: 60 }),
        check: (j) => {
          if (!/BEGIN CERTIFICATE/.test((j as { x509Certificate: string }).x509Certificate)) throw new Error('no certificate');
        },
      },
      {
        name: 'node + jose, no checks (peer)',
        pid: peer.child.pid!,
        url: `https://localhost:${peerPort}/token`,
        contentType: 'application/x-www-form-urlencoded',
        body: form,
        check: (j) => {
          if (typeof (j as { access_token?: unknown }).access_token !== 'string') throw new Error('no token');
        },
      },
    ];
    console.log(`${REQUESTS} requests each, ${CONCURRENCY} at a time, over keep-alive mTLS; ES256 tokens; EC P-256 CA`);
    const results: Result[] = [];
    for (const t of targets) results.push(await measure(t, agent));
    print(results);
    agent.destroy();
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await sleep(300);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
