/**
 * Certificate issuance: Tessera's ZTS next to cfssl's signing server (Debian's
 * golang-cfssl) on the same CA key, measured in the same run on this machine.
 *
 *   rolecert  POST /rolecert over keep-alive mTLS (a service fetching role certs)
 *   register  POST /instance, a new TLS connection per request, as siad
 *             connects; attestation checked with STS (aws-sim)
 *   register-token  the same, attested by an EKS pod's projected service-account
 *             token checked against the cluster issuer's cached keys (no AWS call)
 *   refresh   POST /instance/{provider}/{domain}/{service}/{id} over a new
 *             mTLS connection per request with the instance's current
 *             certificate, as siad connects; STS checked again
 *
 * Each Tessera row is followed by cfssl signing the same CSRs, connected the
 * same way (cfssl requires a client certificate, so its register row uses one).
 * ZTS also does its real work per request — CSR and name checks, role
 * membership, attestation, the certificate record — while cfssl signs what it
 * is given. Server CPU per request comes from /proc/<pid>/stat of each server
 * and the processes it started, so load generator and aws-sim are not counted
 * there; they are the "bench CPU" column. Tessera runs with --workers (default:
 * one per core but one, which the load generator needs). Every target is warmed
 * up first until its CPU per certificate settles (support/warm-up.ts); the
 * warm-up's figures are printed.
 *
 *   npm run bench -- [--requests N] [--concurrency C] [--rounds R] [--rows rolecert,register,refresh]
 *   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" node --import tsx bench/cert-issuance.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request, type RequestOptions } from 'node:https';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { startAwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy, podIdentityTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { httpsJson } from '@tessera/core/https-client';
import { createCsr } from '@tessera/core/x509/csr';
import { issueCertificate } from '@tessera/core/x509/issue';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { freePort } from '@tessera/core/free-port';
import { afterOnePoll, processStats, productionStart, start } from './support/process.ts';
import { describeWarmUp, warmUntilSettled } from './support/warm-up.ts';

const ADMIN_PASSWORD = 'bench-admin-password';
const ACCOUNT = '123456789012';
const PROVIDER = 'athenz.aws.us-west-2';
const { values: opts } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '1' },
    rows: { type: 'string', default: 'rolecert,register,register-token,refresh' },
    // One core is left to this process (the load generator and aws-sim) on the same machine: with a
    // worker per core, three busy processes share two cores and each certificate costs more CPU.
    workers: { type: 'string', default: String(Math.max(1, availableParallelism() - 1)) },
  },
});
/** Whether --rows picks a row (by a prefix of its name). */
/** A row is picked by its name's first word (`register` does not pick `register-token`). */
const picked = (row: string) => opts.rows.split(',').includes(row.split(' ')[0]);
const REQUESTS = Number(opts.requests);
const CONCURRENCY = Number(opts.concurrency);
const ROUNDS = Number(opts.rounds);
if (!(REQUESTS > 0 && CONCURRENCY > 0 && ROUNDS > 0)) throw new Error('--requests, --concurrency and --rounds take positive numbers');

/**
 * One request; resolves with the certificate PEM. `worker` is 0..C-1; `i` counts the measured
 * requests of a row over all rounds, and is undefined during the warm-up.
 */
type Send = (worker: number, i: number | undefined) => Promise<string>;

interface Target {
  name: string;
  pid: number;
  send: Send;
}

interface Result {
  name: string;
  perSecond: number;
  p50: number;
  p99: number;
  cpuMsPerCert: number;
  /** This process's CPU per certificate: the load generator, and for register and refresh also aws-sim answering ZTS's STS calls. */
  benchCpuMsPerCert: number;
  rssMb: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

/** POSTs JSON; `tls` is a keep-alive Agent, or the client TLS options for a fresh connection (full handshake, no session reuse). */
function postJson(url: string, body: unknown, tls: Agent | Pick<RequestOptions, 'ca' | 'cert' | 'key'>, expect: number): Promise<unknown> {
  const text = JSON.stringify(body);
  const conn: RequestOptions = tls instanceof Agent ? { agent: tls } : { agent: false, ...tls };
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ...conn, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'user-agent': 'SIA-AWS bench' } }, (res) => {
      let out = '';
      res.on('data', (c: Buffer) => (out += c));
      res.on('end', () => (res.statusCode === expect ? resolve(JSON.parse(out)) : reject(new Error(`${url}: ${res.statusCode} ${out}`))));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** N requests, C at a time (numbered from `first`, or unnumbered for a warm-up); every certificate is checked against the CA. */
async function load(send: Send, first: number | undefined, n: number, caCert: X509Certificate): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async (w: number) => {
    while (next < n) {
      const i = first === undefined ? undefined : first + next;
      next++;
      const started = performance.now();
      const pem = await send(w, i);
      latencies.push(performance.now() - started);
      if (!new X509Certificate(pem).verify(caCert.publicKey)) throw new Error('a certificate the CA did not sign');
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  return latencies;
}

async function measure(t: Target, round: number, caCert: X509Certificate): Promise<Result> {
  // Warm-up (JIT, connections, caches) until the server's CPU per certificate settles.
  console.log(describeWarmUp(t.name, await warmUntilSettled(t.pid, (n) => load(t.send, undefined, n, caCert))));
  const before = processStats(t.pid);
  const benchBefore = process.cpuUsage();
  const started = performance.now();
  const latencies = (await load(t.send, round * REQUESTS, REQUESTS, caCert)).sort((a, b) => a - b);
  const seconds = (performance.now() - started) / 1000;
  const after = processStats(t.pid);
  const bench = process.cpuUsage(benchBefore);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  return {
    name: t.name,
    perSecond: REQUESTS / seconds,
    p50: pct(50),
    p99: pct(99),
    cpuMsPerCert: ((after.cpuSeconds - before.cpuSeconds) * 1000) / REQUESTS,
    benchCpuMsPerCert: (bench.user + bench.system) / 1000 / REQUESTS,
    rssMb: after.rssMb,
  };
}

function print(rows: string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const children: ChildProcess[] = [];
  const sim = await startAwsSim({ log: () => {} });
  try {
    // ZTS's own AWS identity, for reading the domain account's OIDC providers (token row).
    const ztsKey = sim.createAccessKey('999999999999', { userName: 'zts' });
    // Tessera on the embedded store, as `npm run demo` runs it, checking AWS attestation with aws-sim.
    const tessera = await start(
      process.execPath,
      [...productionStart(), 'serve', '--data-dir', join(dir, 'tessera'), '--zms-port', '0', '--zts-port', '0', '--log-level', 'error', '--workers', opts.workers],
      {
        ...process.env, TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD, TESSERA_AWS_STS_ENDPOINT: sim.url, TESSERA_AWS_IAM_ENDPOINT: sim.url,
        TESSERA_AWS_OIDC_ENDPOINT: `${sim.url}/oidc`, AWS_ACCESS_KEY_ID: ztsKey.accessKeyId, AWS_SECRET_ACCESS_KEY: ztsKey.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true',
      },
      / {2}Store {5}.*\n/,
    );
    children.push(tessera.child);
    const zmsUrl = /ZMS API\s+(\S+)/.exec(tessera.out())![1];
    const ztsUrl = /ZTS API\s+(\S+)/.exec(tessera.out())![1];
    const caPem = readFileSync(join(dir, 'tessera/ca.cert.pem'), 'utf8');
    const caKeyPem = readFileSync(join(dir, 'tessera/ca.key.pem'), 'utf8');
    const caCert = new X509Certificate(caPem);

    // Domain bench (AWS account ACCOUNT), service api launchable by the AWS provider, role readers with bench.api as a member.
    const login = await httpsJson<{ token: string }>({
      url: `${zmsUrl}/user/_self_/token`,
      ca: caPem,
      headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
    });
    for (const [method, path, body] of [
      ['POST', '/domain', { name: 'bench', adminUsers: ['user.admin'] }],
      ['PUT', '/domain/bench/meta/system/account', { account: ACCOUNT }],
      ['PUT', '/domain/bench/service/api', { name: 'bench.api' }],
      ['PUT', '/domain/bench/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
      ['PUT', '/domain/bench/role/readers', { name: 'bench:role.readers', roleMembers: [{ memberName: 'bench.api' }] }],
    ] as const) {
      const r = await httpsJson({ method, url: `${zmsUrl}${path}`, body, ca: caPem, headers: { authorization: `Bearer ${login.body.token}` } });
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    }
    await afterOnePoll(); // with --workers N, every worker sees the domain

    // AWS: role bench.api, assumed by an IAM user; its session credentials are the attestation of every register and refresh.
    const user = sim.createAccessKey(ACCOUNT, { userName: 'bench' });
    const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: user });
    await iam.send(new CreateRoleCommand({ RoleName: 'bench.api', AssumeRolePolicyDocument: awsTrustPolicy(`arn:aws:iam::${ACCOUNT}:user/bench`) }));
    await iam.send(new CreateRoleCommand({ RoleName: 'oidc-issuers-reader', AssumeRolePolicyDocument: awsTrustPolicy(ztsKey.arn) }));
    await iam.send(new CreateRoleCommand({ RoleName: 'bench.pod', AssumeRolePolicyDocument: podIdentityTrustPolicy() }));
    iam.destroy();
    const sts = new STSClient({ region: 'us-west-2', endpoint: sim.url, credentials: user });
    const assumed = (await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/bench.api`, RoleSessionName: 'bench.api', DurationSeconds: 3600 }))).Credentials!;
    sts.destroy();
    const attestationData = JSON.stringify({ role: 'bench.api', commonName: 'bench.api', access: assumed.AccessKeyId, secret: assumed.SecretAccessKey, token: assumed.SessionToken });

    // The rolecert client: bench.api's service certificate, as ZTS would have issued it to siad.
    const client = generateKeyPair('ec');
    const now = Date.now();
    const serviceCert = await issueCertificate({
      ca: { certPem: caPem, keyPem: caKeyPem },
      publicKeyPem: client.publicKeyPem,
      subject: { commonName: 'bench.api', organizationalUnit: PROVIDER },
      uris: ['spiffe://bench/sa/api', `athenz://instanceid/${PROVIDER}/bench-client`],
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 86_400_000),
      usage: 'client',
    });
    const clientTls = { ca: caPem, cert: serviceCert.certPem, key: client.privateKeyPem };
    const keepAlive = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ...clientTls });

    // CSRs as siad makes them, with RSA 2048 keys (its default); keys are reused, CSRs are not.
    const keys = Array.from({ length: 16 }, () => generateKeyPair('rsa').privateKeyPem);
    const roleCsrs = await Promise.all(keys.map((keyPem) => createCsr({
      keyPem, subject: { commonName: 'bench:role.readers' }, uris: ['spiffe://bench/ra/readers', 'athenz://principal/bench.api'],
    })));
    const roleCsr = (w: number, i: number | undefined) => roleCsrs[(i ?? w) % roleCsrs.length];
    const serviceCsr = (keyPem: string, instanceId: string) => createCsr({
      keyPem,
      subject: { commonName: 'bench.api', organizationalUnit: PROVIDER },
      dnsNames: ['api.bench.aws.athenz.cloud'],
      uris: ['spiffe://bench/sa/api', `athenz://instanceid/${PROVIDER}/${instanceId}`],
    });
    // Every measured register is a new instance with a CSR of its own, made only when that row runs;
    // the warm-up registers one instance per concurrent client again and again.
    const totalRegisters = picked('register') ? ROUNDS * REQUESTS : 0;
    if (totalRegisters) console.log(`preparing ${totalRegisters} register CSRs ...`);
    const registerCsrs: string[] = [];
    for (let i = 0; i < totalRegisters; i++) registerCsrs.push(await serviceCsr(keys[i % keys.length], `task-${i}`));
    const warmRegisterCsrs = await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => serviceCsr(keys[w % keys.length], `warm-${w}`)));
    const registerCsr = (w: number, i: number | undefined) => (i === undefined ? warmRegisterCsrs[w] : registerCsrs[i]);

    // Token register, like the STS row: every measured register is a new pod (service account bench.api, a
    // projected token for ZTS) registering its own instance; the warm-up re-registers one pod per concurrent client.
    const launchPod = async () => {
      const pod = await sim.launchEksPod({ mode: 'pod-identity', role: 'bench.pod', account: ACCOUNT, cluster: 'bench', namespace: 'bench', serviceAccount: 'bench.api', tokenAudience: ztsUrl });
      const token = readFileSync(pod.saTokenFile!, 'utf8');
      return { csr: await serviceCsr(keys[0], pod.podName), data: JSON.stringify({ role: 'bench.api', commonName: 'bench.api', identityToken: token }) };
    };
    const tokenRegisters = picked('register-token') ? ROUNDS * REQUESTS : 0;
    if (tokenRegisters) console.log(`launching ${tokenRegisters} EKS pods ...`);
    const pods: Awaited<ReturnType<typeof launchPod>>[] = [];
    for (let i = 0; i < tokenRegisters; i++) pods.push(await launchPod());
    const warmPods = tokenRegisters ? await Promise.all(Array.from({ length: CONCURRENCY }, launchPod)) : [];
    const podFor = (w: number, i: number | undefined) => (i === undefined ? warmPods[w] : pods[i]);

    // Refresh: one registered instance per concurrent client, each refreshing with its latest certificate.
    const instances = await Promise.all(Array.from({ length: CONCURRENCY }, async (_, w) => {
      const id = `refresh-${w}`;
      const csr = await serviceCsr(keys[w % keys.length], id);
      const r = (await postJson(`${ztsUrl}/instance`, { provider: PROVIDER, domain: 'bench', service: 'api', csr, attestationData }, { ca: caPem }, 201)) as { x509Certificate: string };
      return { id, csr, key: keys[w % keys.length], cert: r.x509Certificate };
    }));

    // cfssl on the same CA key and TLS server certificate, requiring client certificates from the same CA.
    const cfsslPort = await freePort();
    writeFileSync(join(dir, 'cfssl.json'), JSON.stringify({ signing: { default: { expiry: '24h', usages: ['digital signature', 'key encipherment', 'client auth', 'server auth'] } } }));
    const cfssl = spawn('cfssl', [
      'serve', '-address', '127.0.0.1', '-port', String(cfsslPort), '-loglevel', '5',
      '-ca', join(dir, 'tessera/ca.cert.pem'), '-ca-key', join(dir, 'tessera/ca.key.pem'), '-config', join(dir, 'cfssl.json'),
      '-tls-cert', join(dir, 'tessera/server.cert.pem'), '-tls-key', join(dir, 'tessera/server.key.pem'), '-mutual-tls-ca', join(dir, 'tessera/ca.cert.pem'),
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(cfssl);
    await waitUntilListening(cfsslPort);
    const cfsslUrl = `https://localhost:${cfsslPort}/api/v1/cfssl/sign`;
    const cfsslSign = async (csr: string, tls: Agent | Pick<RequestOptions, 'ca' | 'cert' | 'key'>) =>
      ((await postJson(cfsslUrl, { certificate_request: csr }, tls, 200)) as { result: { certificate: string } }).result.certificate;

    const allPairs: { row: string; tessera: Target; cfssl: Target }[] = [
      {
        row: 'rolecert (keep-alive mTLS)',
        tessera: {
          name: 'Tessera ZTS /rolecert',
          pid: tessera.child.pid!,
          send: async (w, i) => ((await postJson(`${ztsUrl}/rolecert`, { csr: roleCsr(w, i), expiryTime: 1440 }, keepAlive, 200)) as { x509Certificate: string }).x509Certificate,
        },
        cfssl: { name: 'cfssl /sign, same CSRs', pid: cfssl.pid!, send: (w, i) => cfsslSign(roleCsr(w, i), keepAlive) },
      },
      {
        row: 'register (new TLS connection each, STS)',
        tessera: {
          name: 'Tessera ZTS POST /instance',
          pid: tessera.child.pid!,
          send: async (w, i) => ((await postJson(`${ztsUrl}/instance`, { provider: PROVIDER, domain: 'bench', service: 'api', csr: registerCsr(w, i), attestationData }, { ca: caPem }, 201)) as { x509Certificate: string }).x509Certificate,
        },
        cfssl: { name: 'cfssl /sign, same CSRs, new mTLS each', pid: cfssl.pid!, send: (w, i) => cfsslSign(registerCsr(w, i), clientTls) },
      },
      {
        row: 'register-token (new TLS connection each, EKS token)',
        tessera: {
          name: 'Tessera ZTS POST /instance',
          pid: tessera.child.pid!,
          send: async (w, i) => {
            const pod = podFor(w, i);
            return ((await postJson(`${ztsUrl}/instance`, { provider: PROVIDER, domain: 'bench', service: 'api', csr: pod.csr, attestationData: pod.data }, { ca: caPem }, 201)) as { x509Certificate: string }).x509Certificate;
          },
        },
        cfssl: { name: 'cfssl /sign, same CSRs, new mTLS each', pid: cfssl.pid!, send: (w, i) => cfsslSign(podFor(w, i).csr, clientTls) },
      },
      {
        row: 'refresh (new mTLS connection each, STS)',
        tessera: {
          name: 'Tessera ZTS POST /instance/…/{id}',
          pid: tessera.child.pid!,
          send: async (w) => {
            const inst = instances[w];
            const r = (await postJson(`${ztsUrl}/instance/${PROVIDER}/bench/api/${inst.id}`, { csr: inst.csr, attestationData }, { ca: caPem, cert: inst.cert, key: inst.key }, 200)) as { x509Certificate: string };
            inst.cert = r.x509Certificate;
            return inst.cert;
          },
        },
        cfssl: { name: 'cfssl /sign, same CSRs, new mTLS each', pid: cfssl.pid!, send: (w) => cfsslSign(instances[w].csr, { ca: caPem, cert: instances[w].cert, key: instances[w].key }) },
      },
    ];

    const pairs = allPairs.filter((p) => picked(p.row));
    console.log(`${REQUESTS} certificates per row after a warm-up until the server's CPU per certificate settles, ${CONCURRENCY} at a time; EC P-256 CA; RSA 2048 CSRs; ${ROUNDS} round(s); tessera serve --workers ${opts.workers}`);
    const rows: string[][] = [['row', 'server', 'certs/s', 'p50 ms', 'p99 ms', 'server CPU ms/cert', 'bench CPU ms/cert', 'RSS MB', 'Tessera ÷ cfssl']];
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of pairs) {
        const t = await measure(p.tessera, round, caCert);
        const c = await measure(p.cfssl, round, caCert);
        const fmt = (r: Result, ratio: string, row: string) => [row, r.name, r.perSecond.toFixed(0), r.p50.toFixed(1), r.p99.toFixed(1), r.cpuMsPerCert.toFixed(2), r.benchCpuMsPerCert.toFixed(2), r.rssMb.toFixed(0), ratio];
        rows.push(fmt(t, `${(t.perSecond / c.perSecond).toFixed(2)}× certs/s, ${(t.cpuMsPerCert / c.cpuMsPerCert).toFixed(2)}× CPU`, ROUNDS > 1 ? `${p.row} #${round + 1}` : p.row));
        rows.push(fmt(c, '', ''));
      }
    }
    print(rows);
    keepAlive.destroy();
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await sim.close();
    await sleep(300);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
