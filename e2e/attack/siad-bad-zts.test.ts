/**
 * Attack checklist: a ZTS (or something in front of it) that answers badly.
 * siad, as a separate process in an aws-sim Fargate task, talks to a small
 * fake ZTS over HTTPS that answers 500, 503, 504 or a body that is not JSON.
 * One-shot siad must exit non-zero with words a person can act on; the
 * daemon must keep its valid certificate and keep running.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy, serviceTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { createCertificateAuthority, type CertificateAuthority } from '@tessera/core/x509/ca';
import { issueCertificate, issueServerTlsCertificate } from '@tessera/core/x509/issue';
import { generateKeyPair, toTraditionalPrivateKeyPem } from '@tessera/core/x509/keys';
import { ACCOUNT, PROVIDER } from './support.ts';

const SIAD = new URL('../../packages/sia/bin/siad.js', import.meta.url).pathname;
const NO_CONFIG = '/nonexistent/sia_config';

interface Answer {
  status: number;
  body: string;
  type?: string;
}

let sim: AwsSim;
let dir: string;
let ca: CertificateAuthority;
let caFile: string;
let zts: Server;
let port = 0;
let answer: Answer = { status: 500, body: '' };
const seen: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-attack-siad-'));
  sim = await startAwsSim();
  const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.createAccessKey(ACCOUNT, { userName: 'admin' }) });
  await iam.send(new CreateRoleCommand({ RoleName: 'sports.api-service', AssumeRolePolicyDocument: serviceTrustPolicy('ecs-tasks.amazonaws.com') }));
  await iam.send(new CreateRoleCommand({ RoleName: 'sports.api', AssumeRolePolicyDocument: awsTrustPolicy(`arn:aws:iam::${ACCOUNT}:role/sports.api-service`) }));
  iam.destroy();

  ca = await createCertificateAuthority({ commonName: 'Fake ZTS CA', alg: 'ec', validityDays: 2, now: new Date() });
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  const tls = await issueServerTlsCertificate(ca, { hostnames: ['localhost'], ips: ['127.0.0.1'], validityDays: 1, now: new Date() });
  // The fake ZTS: every request gets `answer`; client certificates are accepted unchecked (refresh sends one).
  zts = createServer({ key: tls.keyPem, cert: tls.certPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => zts.listen(0, '127.0.0.1', resolve));
  port = (zts.address() as { port: number }).port;
});

after(async () => {
  zts?.closeAllConnections();
  await new Promise((r) => zts?.close(r));
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

function siadArgs(siadir: string, args: string[]): string[] {
  return [SIAD, '-zts', 'localhost', '-ztsport', String(port), '-ztscacert', caFile, '-dnsdomains', 'aws.athenz.cloud',
    '-providerprefix', 'athenz.aws', '-siadir', siadir, ...args];
}

function siadOnce(siadir: string, env: Record<string, string>): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, siadArgs(siadir, ['-cmd', 'post', '-config', NO_CONFIG]), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (status) => resolve({ status, out }));
  });
}

describe('siad one-shot against a ZTS that answers badly: exits non-zero and says what ZTS said', () => {
  const cases: { attack: string; answer: Answer; expect: RegExp }[] = [
    { attack: 'ZTS answers 500 with an Athenz error body', answer: { status: 500, body: '{"code":500,"message":"database unavailable"}' }, expect: /ZTS answered 500: database unavailable/ },
    { attack: 'a proxy answers 503 with an HTML page', answer: { status: 503, body: '<html><body>Service Unavailable</body></html>', type: 'text/html' }, expect: /ZTS answered 503: <html><body>Service Unavailable/ },
    { attack: 'a gateway answers 504 with no body', answer: { status: 504, body: '', type: 'text/plain' }, expect: /ZTS answered 504: \(no body\)/ },
    { attack: 'ZTS answers 201 with a body that is not JSON', answer: { status: 201, body: 'certificate follows', type: 'text/plain' }, expect: /ZTS answered 201 without a JSON body/ },
    { attack: 'ZTS answers 201 with truncated JSON', answer: { status: 201, body: '{"x509Certificate":"-----BEGIN', type: 'application/json' }, expect: /ZTS answered 201 without a JSON body/ },
  ];
  for (const c of cases) {
    test(`${c.attack} → siad exits non-zero naming it`, async () => {
      const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
      answer = c.answer;
      const before = seen.length;
      const r = await siadOnce(join(dir, `once-${c.answer.status}-${before}`), task.env);
      assert.ok(seen.length > before, 'siad reached the fake ZTS');
      assert.notEqual(r.status, 0, r.out);
      assert.match(r.out, c.expect);
      assert.doesNotMatch(r.out, /ASIA|PRIVATE KEY/, 'no secrets in the output');
    });
  }
});

describe('siad daemon against a ZTS that answers badly', () => {
  test('503, then a non-JSON 200: the daemon keeps its valid certificate on disk, says why, and keeps running', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
    const siadir = join(dir, 'daemon');
    const { certFile, certPem: current } = await identityOnDisk(siadir, task.taskId);
    const config = join(dir, 'daemon-sia_config');
    // refresh_interval in minutes: 0.03 = 1.8 s.
    writeFileSync(config, JSON.stringify({ service: 'api', refresh_interval: 0.03, accounts: [{ domain: 'sports', account: ACCOUNT }] }));

    answer = { status: 503, body: '<html>Service Unavailable</html>', type: 'text/html' };
    const d = daemon(siadArgs(siadir, ['-config', config]), task.env);
    try {
      await d.waitFor(/ZTS answered 503: <html>Service Unavailable<\/html>/);
      await d.waitFor(/failed; the current certificate stays in place/);
      answer = { status: 200, body: 'not json', type: 'text/plain' };
      await d.waitFor(/ZTS answered 200 without a JSON body/);
      assert.ok(d.alive(), 'the daemon is still running');
      assert.equal(readFileSync(certFile, 'utf8'), current, 'the valid certificate on disk is kept');
    } finally {
      assert.equal(await d.stop(), 0, d.out);
    }
    assert.doesNotMatch(d.out, /ASIA|PRIVATE KEY/, 'no secrets in the log');
  });
});

/** A week-long sports.api certificate for this task from the fake ZTS's CA, for `publicKeyPem` (a key or its public half). */
async function identityCert(taskId: string, publicKeyPem: string): Promise<string> {
  const now = Date.now();
  const { certPem } = await issueCertificate({
    ca,
    publicKeyPem,
    subject: { commonName: 'sports.api', organizationalUnit: PROVIDER },
    dnsNames: ['api.sports.aws.athenz.cloud'],
    uris: ['spiffe://sports/sa/api', `athenz://instanceid/${PROVIDER}/${taskId}`],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 7 * 86_400_000),
    usage: 'client-server',
  });
  return certPem;
}

/** A valid identity already on disk, as siad wrote it: RSA key (PKCS#1) and certificate. */
async function identityOnDisk(siadir: string, taskId: string): Promise<{ key: string; certFile: string; keyFile: string; certPem: string }> {
  const key = toTraditionalPrivateKeyPem(generateKeyPair('rsa').privateKeyPem);
  const certPem = await identityCert(taskId, key);
  mkdirSync(join(siadir, 'keys'), { recursive: true });
  mkdirSync(join(siadir, 'certs'), { recursive: true });
  const keyFile = join(siadir, 'keys', 'sports.api.key.pem');
  const certFile = join(siadir, 'certs', 'sports.api.cert.pem');
  writeFileSync(keyFile, key, { mode: 0o440 });
  writeFileSync(certFile, certPem, { mode: 0o444 });
  return { key, certFile, keyFile, certPem };
}

describe('a ZTS (or something in front of it) that answers with a valid certificate for another key', () => {
  const otherKeysCert = async (taskId: string) => JSON.stringify({ x509Certificate: await identityCert(taskId, generateKeyPair('ec').publicKeyPem), x509CertificateSigner: ca.certPem });

  test('register: siad refuses it, exits non-zero and writes nothing', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
    const siadir = join(dir, 'other-key-once');
    answer = { status: 201, body: await otherKeysCert(task.taskId) };
    const r = await siadOnce(siadir, task.env);
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /ZTS returned a certificate for sports\.api that does not match the key: nothing was written/);
    for (const f of ['keys/sports.api.key.pem', 'certs/sports.api.cert.pem', 'certs/ca.cert.pem']) assert.ok(!existsSync(join(siadir, f)), `${f} was not written`);
  });

  test('refresh (the daemon): siad refuses it and keeps its key and certificate', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
    const siadir = join(dir, 'other-key-daemon');
    const { key, keyFile, certFile, certPem } = await identityOnDisk(siadir, task.taskId);
    const config = join(dir, 'other-key-sia_config');
    writeFileSync(config, JSON.stringify({ service: 'api', refresh_interval: 0.03, accounts: [{ domain: 'sports', account: ACCOUNT }] }));
    answer = { status: 200, body: await otherKeysCert(task.taskId) };
    const before = seen.length;
    const d = daemon(siadArgs(siadir, ['-config', config]), task.env);
    try {
      await d.waitFor(/ZTS returned a certificate for sports\.api that does not match the key: nothing was written\n {2}attempt 1 failed; the current certificate stays in place/);
      assert.ok(seen.slice(before).some((r) => r.startsWith(`POST /zts/v1/instance/${PROVIDER}/sports/api/${task.taskId}`)), `siad refreshed: ${seen.slice(before).join(', ')}`);
      assert.ok(d.alive(), 'the daemon is still running');
      assert.equal(readFileSync(keyFile, 'utf8'), key, 'the key on disk is kept');
      assert.equal(readFileSync(certFile, 'utf8'), certPem, 'the certificate on disk is kept');
    } finally {
      assert.equal(await d.stop(), 0, d.out);
    }
  });
});

function daemon(args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    get out() {
      return out;
    },
    async waitFor(re: RegExp, timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!re.test(out)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; output:\n${out}`);
        if (child.exitCode !== null) throw new Error(`siad exited (${child.exitCode}) while waiting for ${re}; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    alive: () => child.exitCode === null,
    stop(): Promise<number | null> {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
