/**
 * Certificate issuance throughput: Tessera's ZTS `POST /rolecert` next to
 * cfssl's signing server (Debian's golang-cfssl) on the same CA, measured in
 * the same run on the same machine.
 *
 * Both are mTLS HTTPS servers that take a PEM CSR and return a certificate
 * signed with the same EC P-256 CA key. ZTS also does its real work per
 * request — the role-membership check, the CSR's names against the caller's
 * certificate — while cfssl signs what it is given. Each server runs as its
 * own process, so its memory and CPU time are its own.
 *
 *   npm run bench -- [--requests N] [--concurrency C]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { httpsJson } from '@tessera/core/https-client';
import { createCsr } from '@tessera/core/x509/csr';
import { issueCertificate } from '@tessera/core/x509/issue';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { freePort } from '@tessera/core/free-port';

const ROOT = new URL('..', import.meta.url).pathname;
const ADMIN_PASSWORD = 'bench-admin-password';

const { values: opts } = parseArgs({
  options: { requests: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '8' } },
});
const REQUESTS = Number(opts.requests);
const CONCURRENCY = Number(opts.concurrency);
if (!(REQUESTS > 0 && CONCURRENCY > 0)) throw new Error('--requests and --concurrency take positive numbers');

interface Target {
  name: string;
  pid: number;
  url: string;
  body: (csr: string) => string;
  certOf: (json: unknown) => string;
}

interface Result {
  name: string;
  perSecond: number;
  p50: number;
  p99: number;
  cpuMsPerCert: number;
  idleRssMb: number;
  rssMb: number;
  peakRssMb: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident and peak memory (MB) and CPU seconds of a process, from /proc. */
function processStats(pid: number): { rssMb: number; peakRssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name): user and system time in clock ticks.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100 };
}

/** Starts a program and resolves once `ready` matches its output. */
function start(cmd: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      if (ready.test(out)) resolve({ child, out: () => out });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', (e) => reject(new Error(`cannot start ${cmd}: ${e.message}`)));
    child.on('exit', (code) => reject(new Error(`${cmd} exited (${code}) before it was ready:\n${out}`)));
  });
}

async function waitUntilListening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true)); // in use: the server is up
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on port ${port}`);
}

/** N requests, C at a time, over keep-alive mTLS connections; every certificate is checked against the CA. */
async function load(t: Target, agent: Agent, csrs: string[], n: number, caCert: X509Certificate): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const one = (csr: string) =>
    new Promise<string>((resolve, reject) => {
      const body = t.body(csr);
      const req = request(t.url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(t.certOf(JSON.parse(text))) : reject(new Error(`${t.name}: ${res.statusCode} ${text}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  const worker = async () => {
    while (next < n) {
      const csr = csrs[next++ % csrs.length];
      const started = performance.now();
      const pem = await one(csr);
      latencies.push(performance.now() - started);
      if (!new X509Certificate(pem).verify(caCert.publicKey)) throw new Error(`${t.name} returned a certificate the CA did not sign`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return latencies;
}

async function measure(t: Target, agent: Agent, csrs: string[], caCert: X509Certificate): Promise<Result> {
  const idle = processStats(t.pid);
  await load(t, agent, csrs, Math.min(200, REQUESTS), caCert); // warm-up: JIT, connections, caches
  const before = processStats(t.pid);
  const started = performance.now();
  const latencies = (await load(t, agent, csrs, REQUESTS, caCert)).sort((a, b) => a - b);
  const seconds = (performance.now() - started) / 1000;
  const after = processStats(t.pid);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return {
    name: t.name,
    perSecond: REQUESTS / seconds,
    p50: pct(50),
    p99: pct(99),
    cpuMsPerCert: ((after.cpuSeconds - before.cpuSeconds) * 1000) / REQUESTS,
    idleRssMb: idle.rssMb,
    rssMb: after.rssMb,
    peakRssMb: after.peakRssMb,
  };
}

function print(results: Result[]): void {
  const rows = [
    ['server', 'certs/s', 'p50 ms', 'p99 ms', 'server CPU ms/cert', 'idle RSS MB', 'RSS MB', 'peak RSS MB'],
    ...results.map((r) => [r.name, r.perSecond.toFixed(0), r.p50.toFixed(1), r.p99.toFixed(1), r.cpuMsPerCert.toFixed(2), r.idleRssMb.toFixed(0), r.rssMb.toFixed(0), r.peakRssMb.toFixed(0)]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const children: ChildProcess[] = [];
  try {
    // Tessera on the embedded store, as `npm run demo` runs it.
    const tessera = await start(
      process.execPath,
      [join(ROOT, 'packages/server/bin/tessera.js'), 'serve', '--data-dir', join(dir, 'tessera'), '--zms-port', '0', '--zts-port', '0', '--log-level', 'error'],
      { ...process.env, TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD },
      /Store: .*\n/,
    );
    children.push(tessera.child);
    const zmsUrl = /ZMS: (\S+)/.exec(tessera.out())![1];
    const ztsUrl = /ZTS: (\S+)/.exec(tessera.out())![1];
    const caPem = readFileSync(join(dir, 'tessera/ca.cert.pem'), 'utf8');
    const caKeyPem = readFileSync(join(dir, 'tessera/ca.key.pem'), 'utf8');
    const caCert = new X509Certificate(caPem);

    // Domain bench, service api, role readers with bench.api as a member.
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

    // The client: bench.api's service certificate, as ZTS would have issued it to siad.
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

    // Role CSRs as siad makes them (RSA 2048 keys, its default), cycled through.
    const csrs = await Promise.all(
      Array.from({ length: 20 }, () =>
        createCsr({
          keyPem: generateKeyPair('rsa').privateKeyPem,
          subject: { commonName: 'bench:role.readers' },
          uris: ['spiffe://bench/ra/readers', 'athenz://principal/bench.api'],
        }),
      ),
    );

    // cfssl on the same CA key, with the same TLS server certificate, requiring client certificates from the same CA.
    const cfsslPort = await freePort();
    writeFileSync(join(dir, 'cfssl.json'), JSON.stringify({ signing: { default: { expiry: '24h', usages: ['digital signature', 'client auth'] } } }));
    const cfssl = spawn('cfssl', [
      'serve', '-address', '127.0.0.1', '-port', String(cfsslPort), '-loglevel', '5',
      '-ca', join(dir, 'tessera/ca.cert.pem'), '-ca-key', join(dir, 'tessera/ca.key.pem'), '-config', join(dir, 'cfssl.json'),
      '-tls-cert', join(dir, 'tessera/server.cert.pem'), '-tls-key', join(dir, 'tessera/server.key.pem'), '-mutual-tls-ca', join(dir, 'tessera/ca.cert.pem'),
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(cfssl);
    await waitUntilListening(cfsslPort);

    const targets: Target[] = [
      {
        name: 'Tessera ZTS /rolecert',
        pid: tessera.child.pid!,
        url: `${ztsUrl}/rolecert`,
        body: (csr) => JSON.stringify({ csr, expiryTime: 1440 }),
        certOf: (j) => (j as { x509Certificate: string }).x509Certificate,
      },
      {
        name: 'cfssl serve /sign (peer)',
        pid: cfssl.pid!,
        url: `https://localhost:${cfsslPort}/api/v1/cfssl/sign`,
        body: (csr) => JSON.stringify({ certificate_request: csr }),
        certOf: (j) => (j as { result: { certificate: string } }).result.certificate,
      },
    ];
    console.log(`${REQUESTS} certificates each, ${CONCURRENCY} at a time, over keep-alive mTLS; EC P-256 CA; RSA 2048 CSRs`);
    const results: Result[] = [];
    for (const t of targets) results.push(await measure(t, agent, csrs, caCert));
    print(results);
    agent.destroy();
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await sleep(300);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
