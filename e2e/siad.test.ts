/**
 * siad as a separate process, with exactly the environment aws-sim gives a
 * Fargate task, an EKS pod or an EC2 instance, against a real tessera server
 * (ZTS reached through a TCP relay that the daemon test switches off and on).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy, podIdentityTrustPolicy, serviceTrustPolicy, webIdentityTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { generateKeyPair, keyMatchesCertificate, toTraditionalPrivateKeyPem } from '@tessera/core/x509/keys';
import { parseCertificate } from '@tessera/core/x509/certificate';
import { issueCertificate } from '@tessera/core/x509/issue';
import { startTestServer, type TestServer } from '@tessera/server/test/support/test-server';
import { freePort } from '@tessera/core/free-port';

const ROOT = new URL('..', import.meta.url).pathname;
const SIAD = join(ROOT, 'packages/sia/bin/siad.js');
const ACCOUNT = '123456789012';
const PROVIDER = 'athenz.aws.us-west-2';
const NO_CONFIG = '/nonexistent/sia_config';

let sim: AwsSim;
let t: TestServer;
let dir: string;
let caFile: string;
let relay: Relay;

/** A TCP relay in front of ZTS on a fixed port: stop() is a ZTS outage, start() its return. */
class Relay {
  port = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  constructor(private readonly target: number) {}

  start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(this.target, client);
      this.sockets.add(client).add(upstream);
      for (const s of [client, upstream]) s.on('close', () => this.sockets.delete(s));
    });
    this.server = server;
    return new Promise((resolve) => server.listen(this.port, '127.0.0.1', () => {
      this.port = (server.address() as { port: number }).port;
      resolve();
    }));
  }

  stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function createConnection(port: number, client: Socket): Socket {
  const upstream = connect(port, '127.0.0.1');
  client.pipe(upstream).pipe(client);
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
  return upstream;
}

interface Run {
  status: number | null;
  out: string;
}

function siadArgs(args: string[], siadir: string): string[] {
  return ['-zts', 'localhost', '-ztsport', String(relay.port), '-ztscacert', caFile, '-dnsdomains', 'aws.athenz.cloud',
    '-providerprefix', 'athenz.aws', '-siadir', siadir, ...args];
}

/** One siad run to completion; env is the workload's environment, nothing else. */
function siad(args: string[], env: Record<string, string>, siadir: string, bin = SIAD): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...siadArgs(args, siadir)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (status) => {
      if (process.env.SIAD_TEST_SHOW) console.log(`$ siad ${args.join(' ')}\n${out}`);
      resolve({ status, out });
    });
  });
}

/** A siad daemon whose output the test can wait on. */
function daemon(args: string[], env: Record<string, string>, siadir: string, nodeArgs: string[] = []) {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, SIAD, ...siadArgs(args, siadir)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: (() => void)[] = [];
  const onData = (d: Buffer) => {
    out += d;
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    get out() {
      return out;
    },
    /** Resolves once `re` has matched `count` times in the output. */
    async waitFor(re: RegExp, count = 1, timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      const g = new RegExp(re.source, 'g');
      while ((out.match(g)?.length ?? 0) < count) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} x${count}; output:\n${out}`);
        if (child.exitCode !== null) throw new Error(`siad exited (${child.exitCode}) while waiting for ${re}; output:\n${out}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    count: (re: RegExp) => out.match(new RegExp(re.source, 'g'))?.length ?? 0,
    alive: () => child.exitCode === null,
    async stop(): Promise<number | null> {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

const iam = (account: string) => new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.createAccessKey(account, { userName: 'admin' }) });
const arn = (role: string) => `arn:aws:iam::${ACCOUNT}:role/${role}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-siad-'));
  sim = await startAwsSim({ filesDir: join(dir, 'sim') });
  writeFileSync(join(dir, 'aws-doc.pem'), sim.identityDocumentCertPem);
  t = await startTestServer('sqlite', { awsStsEndpoint: sim.url, awsDocumentCert: join(dir, 'aws-doc.pem') });
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, t.ca);
  relay = new Relay(Number(new URL(t.server.ztsUrl).port));
  await relay.start();
  for (const [m, p, b] of [
    ['POST', '/domain', { name: 'sports', adminUsers: ['user.admin'] }],
    ['PUT', '/domain/sports/meta/system/account', { account: ACCOUNT }],
    ['PUT', '/domain/sports/service/api', { name: 'sports.api' }],
    ['PUT', '/domain/sports/service/noprov', { name: 'sports.noprov' }],
    ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
    ['PUT', '/domain/sports/role/readers', { roleMembers: [{ memberName: 'sports.api' }] }],
    ['POST', '/domain', { name: 'media', adminUsers: ['user.admin'] }],
    ['PUT', '/domain/media/service/api', { name: 'media.api' }],
    ['PUT', '/domain/media/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
  ] as [string, string, unknown][]) {
    const r = await t.admin.call(m, p, b);
    assert.ok(r.status < 300, `${m} ${p}: ${r.text}`);
  }
  const c = iam(ACCOUNT);
  const cluster = sim.eksCluster({ account: ACCOUNT, cluster: 'prod' });
  for (const [name, trust] of [
    ['sports.api-service', serviceTrustPolicy('ecs-tasks.amazonaws.com')],
    ['sports.pod-service', podIdentityTrustPolicy()],
    ['sports.irsa-service', webIdentityTrustPolicy(cluster.oidcProviderArn)],
    ['sports.vm-service', serviceTrustPolicy('ec2.amazonaws.com')],
    ['sports.noprov-service', serviceTrustPolicy('ecs-tasks.amazonaws.com')],
    ['media.api-service', serviceTrustPolicy('ecs-tasks.amazonaws.com')],
    ['weather.api-service', serviceTrustPolicy('ecs-tasks.amazonaws.com')],
    ['noname', serviceTrustPolicy('ecs-tasks.amazonaws.com')],
  ]) await c.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }));
  await c.send(new CreateRoleCommand({
    RoleName: 'sports.api',
    AssumeRolePolicyDocument: awsTrustPolicy(['sports.api-service', 'sports.pod-service', 'sports.irsa-service', 'sports.vm-service'].map(arn)),
  }));
  await c.send(new CreateRoleCommand({ RoleName: 'sports.noprov', AssumeRolePolicyDocument: awsTrustPolicy(arn('sports.noprov-service')) }));
  await c.send(new CreateRoleCommand({ RoleName: 'media.api', AssumeRolePolicyDocument: awsTrustPolicy(arn('media.api-service')) }));
  c.destroy();
});

after(async () => {
  await relay?.stop();
  await t?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const paths = (siadir: string) => ({
  key: join(siadir, 'keys', 'sports.api.key.pem'),
  cert: join(siadir, 'certs', 'sports.api.cert.pem'),
  ca: join(siadir, 'certs', 'ca.cert.pem'),
});

/** Key, certificate and CA as Athenz writes them; returns the certificate's serial. */
function checkFiles(siadir: string, instanceId: string, days = 7): string {
  const p = paths(siadir);
  assert.equal(statSync(p.key).mode & 0o777, 0o440, 'key mode');
  assert.equal(statSync(p.cert).mode & 0o777, 0o444, 'cert mode');
  assert.equal(statSync(p.ca).mode & 0o777, 0o444, 'CA mode');
  const key = readFileSync(p.key, 'utf8');
  const cert = readFileSync(p.cert, 'utf8');
  assert.match(key, /^-----BEGIN RSA PRIVATE KEY-----/, 'PKCS#1, as Athenz writes RSA keys');
  assert.match(execFileSync('openssl', ['verify', '-CAfile', p.ca, p.cert], { encoding: 'utf8' }), /: OK/);
  assert.ok(keyMatchesCertificate(key, cert), 'the key matches the certificate');
  const info = parseCertificate(cert);
  assert.equal(info.commonName, 'sports.api');
  assert.equal(info.organizationalUnit, PROVIDER);
  assert.deepEqual(info.dnsNames, ['api.sports.aws.athenz.cloud']);
  assert.deepEqual(info.uris, ['spiffe://sports/sa/api', `athenz://instanceid/${PROVIDER}/${instanceId}`]);
  assert.equal(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / 86_400_000), days);
  return info.serialHex;
}

const serialOf = (siadir: string) => parseCertificate(readFileSync(paths(siadir).cert, 'utf8')).serialHex;

describe('one-shot commands', () => {
  test('Fargate: post with no config finds sports/api from the task role; rotate; the old certificate cannot refresh; rolecert', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
    const siadir = join(dir, 'fargate');
    const post = await siad(['-cmd', 'post', '-config', NO_CONFIG], task.env, siadir);
    assert.equal(post.status, 0, post.out);
    assert.match(post.out, /sports\.api \(from IAM role sports\.api-service\) on fargate, instance [0-9a-f]{32}, provider athenz\.aws\.us-west-2/);
    assert.doesNotMatch(post.out, /ASIA|SecretAccessKey|PRIVATE KEY/, 'no secrets in the output');
    const first = checkFiles(siadir, task.taskId);
    assert.ok(existsSync(join(siadir, 'register.done')));
    const old = { key: readFileSync(paths(siadir).key, 'utf8'), cert: readFileSync(paths(siadir).cert, 'utf8') };

    const rotate = await siad(['-cmd', 'rotate', '-config', NO_CONFIG], task.env, siadir);
    assert.equal(rotate.status, 0, rotate.out);
    assert.notEqual(checkFiles(siadir, task.taskId), first, 'a new serial');
    assert.equal(readFileSync(join(siadir, 'backup', 'sports.api.cert.pem'), 'utf8'), old.cert, 'the previous certificate is kept as a backup');
    assert.ok(existsSync(join(siadir, 'refresh.done')));

    // The replaced certificate, put back by a copier: ZTS refuses it (and revokes the instance).
    const replay = join(dir, 'replay');
    mkdirSync(join(replay, 'keys'), { recursive: true });
    mkdirSync(join(replay, 'certs'), { recursive: true });
    writeFileSync(join(replay, 'keys', 'sports.api.key.pem'), old.key);
    writeFileSync(join(replay, 'certs', 'sports.api.cert.pem'), old.cert);
    const stale = await siad(['-cmd', 'rotate', '-config', NO_CONFIG], task.env, replay);
    assert.equal(stale.status, 1, stale.out);
    assert.match(stale.out, /ZTS refused to refresh sports\.api \(403\): Certificate revoked/);

    // Register again and fetch the role certificate, chained; roles from ATHENZ_SIA_ACCOUNT_ROLES.
    const env = { ...task.env, ATHENZ_SIA_ACCOUNT_ROLES: '{"sports:role.readers": {}}' };
    const again = await siad(['-cmd', 'post,rolecert', '-config', NO_CONFIG], env, siadir);
    assert.equal(again.status, 0, again.out);
    const role = join(siadir, 'certs', 'sports:role.readers.cert.pem');
    assert.equal(statSync(role).mode & 0o777, 0o444);
    assert.match(execFileSync('openssl', ['verify', '-CAfile', paths(siadir).ca, role], { encoding: 'utf8' }), /: OK/);
    const info = parseCertificate(readFileSync(role, 'utf8'));
    assert.equal(info.commonName, 'sports:role.readers');
    assert.ok(info.uris.includes('spiffe://sports/ra/readers'));
    assert.ok(keyMatchesCertificate(readFileSync(paths(siadir).key, 'utf8'), readFileSync(role, 'utf8')), 'role certificate for the service key');
    assert.ok(existsSync(join(siadir, 'rolecert.done')));
  });

  test('EKS Pod Identity: sia_config wins over the environment; the pod name is the instance id', async () => {
    const pod = await sim.launchEksPod({ mode: 'pod-identity', role: 'sports.pod-service', account: ACCOUNT, cluster: 'prod', namespace: 'default', podName: 'api-pod-identity' });
    const siadir = join(dir, 'eks-pod-identity');
    const config = join(dir, 'pod-sia_config');
    writeFileSync(config, JSON.stringify({ service: 'api', accounts: [{ domain: 'sports', account: ACCOUNT }] }));
    const env = { ...pod.env, ATHENZ_SIA_IAM_ROLE_ARN: arn('sports.noprov') };
    const r = await siad(['-cmd', 'post', '-config', config], env, siadir);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`sports\\.api \\(from ${config}\\) on eks, instance api-pod-identity`));
    checkFiles(siadir, 'api-pod-identity');
  });

  test('EKS IRSA: ATHENZ_SIA_IAM_ROLE_ARN names the service', async () => {
    const pod = await sim.launchEksPod({ mode: 'irsa', role: 'sports.irsa-service', account: ACCOUNT, cluster: 'prod', namespace: 'default', podName: 'api-irsa' });
    const siadir = join(dir, 'eks-irsa');
    const r = await siad(['-cmd', 'post', '-config', NO_CONFIG], { ...pod.env, ATHENZ_SIA_IAM_ROLE_ARN: arn('sports.api') }, siadir);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /sports\.api \(from ATHENZ_SIA_IAM_ROLE_ARN\) on eks, instance api-irsa/);
    checkFiles(siadir, 'api-irsa');
  });

  test('EC2: the signed identity document goes with the attestation (30-day certificate)', async () => {
    const vm = await sim.launchEc2Instance({ role: 'sports.vm-service', account: ACCOUNT, region: 'us-west-2' });
    const siadir = join(dir, 'ec2');
    const r = await siad(['-cmd', 'post', '-config', NO_CONFIG], { ...vm.env, ATHENZ_SIA_IAM_ROLE_ARN: arn('sports.api') }, siadir);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`on ec2, instance ${vm.instanceId}`));
    checkFiles(siadir, vm.instanceId, 30);
  });
});

describe('the daemon', () => {
  test('refreshes on schedule, rides out a ZTS outage on its valid certificate, reports health, stops on SIGTERM', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
    const siadir = join(dir, 'daemon');
    const config = join(dir, 'daemon-sia_config');
    const healthPort = await freePort();
    // refresh_interval in minutes: 0.03 = 1.8 s.
    writeFileSync(config, JSON.stringify({
      service: 'api', refresh_interval: 0.03, http_port: healthPort,
      accounts: [{ domain: 'sports', account: ACCOUNT, roles: { 'sports:role.readers': {} } }],
    }));
    const d = daemon(['-config', config], task.env, siadir);
    try {
      await d.waitFor(/sports\.api: certificate valid until/);
      checkFiles(siadir, task.taskId);
      await d.waitFor(/sports:role\.readers: wrote/);
      const health = await fetch(`http://127.0.0.1:${healthPort}/status`);
      assert.equal(health.status, 200);
      const certs = (await (await fetch(`http://127.0.0.1:${healthPort}/certs`)).json()) as Record<string, { expiry_time: string }>;
      assert.deepEqual(Object.keys(certs).sort(), ['sports.api', 'sports:role.readers']);

      // On schedule: two more refreshes, each a new certificate.
      const serials = new Set([serialOf(siadir)]);
      await d.waitFor(/refreshed the certificate of instance/, 2);
      serials.add(serialOf(siadir));
      assert.ok(serials.size >= 2, 'the refresh replaced the certificate');
      checkFiles(siadir, task.taskId);

      // ZTS goes away for several intervals.
      await relay.stop();
      const before = d.count(/failed; the current certificate stays in place/);
      const outageSerial = serialOf(siadir);
      await d.waitFor(/failed; the current certificate stays in place/, before + 3, 20_000);
      // Two more failed attempts of the daemon's own (> 2 intervals), each leaving the certificate in place.
      await d.waitFor(/failed; the current certificate stays in place/, before + 5, 20_000);
      assert.ok(d.alive(), 'the daemon is still running');
      assert.equal(serialOf(siadir), outageSerial, 'the certificate on disk is kept');
      assert.ok(keyMatchesCertificate(readFileSync(paths(siadir).key, 'utf8'), readFileSync(paths(siadir).cert, 'utf8')));
      assert.equal((await fetch(`http://127.0.0.1:${healthPort}/status`)).status, 200, 'healthy while the certificate is valid');
      const report = (await (await fetch(`http://127.0.0.1:${healthPort}/certs`)).json()) as Record<string, { last_failure_error?: string }>;
      assert.match(report['sports.api'].last_failure_error ?? '', /cannot reach ZTS/);
      const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
      assert.ok(Number(/^siad_refresh_total\{name="sports\.api",result="failure"\} (\d+)$/m.exec(metrics)?.[1]) >= 3, metrics);
      assert.match(metrics, /^siad_certificate_expiry_seconds\{name="sports\.api"\} \d+/m, 'still valid');
      assert.match(d.out, /cannot reach ZTS at https:\/\/localhost:\d+\/zts\/v1: connect ECONNREFUSED/);

      // ZTS is back: the next retry refreshes (or, if a lost answer got the certificate replaced, registers afresh).
      await relay.start();
      const refreshedBefore = d.count(/sports\.api: certificate valid until/);
      await d.waitFor(/sports\.api: certificate valid until/, refreshedBefore + 1, 20_000);
      assert.notEqual(serialOf(siadir), outageSerial);
      checkFiles(siadir, task.taskId);
    } finally {
      if (!relay.port || !(await portOpen(relay.port))) await relay.start().catch(() => undefined);
      const code = await d.stop();
      assert.equal(code, 0, `clean exit on SIGTERM:\n${d.out}`);
    }
    if (process.env.SIAD_TEST_SHOW) console.log(d.out);
    assert.match(d.out, /stopped/);
    assert.doesNotMatch(d.out, /ASIA|PRIVATE KEY/, 'no secrets in the log');
  });

  test('registers afresh at start when the files on disk are expired; a full GC follows the pass', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
    const siadir = join(dir, 'expired');
    // Last week's identity from the same CA, long expired.
    const key = toTraditionalPrivateKeyPem(generateKeyPair('rsa').privateKeyPem);
    const now = Date.now();
    const expired = await issueCertificate({
      ca: { certPem: t.server.tls.caCertPem, keyPem: t.server.tls.caKeyPem },
      publicKeyPem: key,
      subject: { commonName: 'sports.api', organizationalUnit: PROVIDER },
      dnsNames: ['api.sports.aws.athenz.cloud'],
      uris: ['spiffe://sports/sa/api', `athenz://instanceid/${PROVIDER}/${task.taskId}`],
      notBefore: new Date(now - 8 * 86_400_000),
      notAfter: new Date(now - 86_400_000),
      usage: 'client-server',
    });
    mkdirSync(join(siadir, 'keys'), { recursive: true });
    mkdirSync(join(siadir, 'certs'), { recursive: true });
    writeFileSync(paths(siadir).key, key, { mode: 0o440 });
    writeFileSync(paths(siadir).cert, expired.certPem, { mode: 0o444 });

    // --trace-gc prints each collection; the daemon's own full GC after a pass gives the reason "testing" (as V8 names gc()).
    const d = daemon(['-config', NO_CONFIG], { ...task.env, ATHENZ_SIA_REFRESH_INTERVAL: '60' }, siadir, ['--trace-gc']);
    try {
      await d.waitFor(/sports\.api: certificate valid until/);
      await d.waitFor(/certificate valid until[^]*Mark-Compact[^\n]* testing;/);
      assert.match(d.out, /sports\.api\.cert\.pem expired at .*: registering/);
      assert.match(d.out, /registered instance/);
      assert.notEqual(serialOf(siadir), expired.serialHex);
      checkFiles(siadir, task.taskId);
      assert.equal(readFileSync(join(siadir, 'backup', 'sports.api.cert.pem'), 'utf8'), expired.certPem, 'the expired certificate went to the backup');
    } finally {
      assert.equal(await d.stop(), 0, d.out);
    }
  });
  test('a refresh refused with 403 (the instance revoked in ZMS): the daemon registers afresh and gets a new certificate', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
    const siadir = join(dir, 'revoked');
    const config = join(dir, 'revoked-sia_config');
    // refresh_interval in minutes: 0.03 = 1.8 s.
    writeFileSync(config, JSON.stringify({ service: 'api', refresh_interval: 0.03, accounts: [{ domain: 'sports', account: ACCOUNT }] }));
    const d = daemon(['-config', config], task.env, siadir);
    try {
      await d.waitFor(/sports\.api: certificate valid until/);
      const first = serialOf(siadir);
      const revoked = await t.admin.call('DELETE', `/domain/sports/service/api/instance/${PROVIDER}/${task.taskId}`);
      assert.equal(revoked.status, 204, revoked.text);
      // The next refresh is refused (its certificate is revoked); the daemon registers the instance again.
      await d.waitFor(/ZTS refused to refresh sports\.api \(403\): [^\n]*: registering afresh/);
      const validBefore = d.count(/sports\.api: certificate valid until/);
      await d.waitFor(/sports\.api: registered instance/, 2);
      await d.waitFor(/sports\.api: certificate valid until/, validBefore + 1);
      const second = serialOf(siadir);
      assert.notEqual(second, first, 'a new certificate replaced the revoked one');
      checkFiles(siadir, task.taskId);
      // Revoking deleted the instance's record; the new register made one again.
      const listed = await t.admin.call<{ instances: { instanceId: string; revoked: boolean }[] }>('GET', '/domain/sports/service/api/instances');
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(listed.body.instances.filter((i) => i.instanceId === task.taskId).map((i) => i.revoked), [false], listed.text);
      assert.ok(d.alive(), 'the daemon keeps running');
    } finally {
      assert.equal(await d.stop(), 0, d.out);
    }
  });

  test('run_after after each write: a hook that fails, one that hangs (killed at run_after_timeout), one that succeeds; siad stays healthy', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
    const siadir = join(dir, 'hooks');
    const hookDir = join(dir, 'hook-runs');
    mkdirSync(hookDir, { recursive: true });
    const script = join(dir, 'hook.sh');
    // Run 1 fails, run 2 hangs, later runs record the files they were told about (whole, by a rename).
    writeFileSync(script, [
      'n=$(( $(cat "$1/count" 2>/dev/null || echo 0) + 1 )); echo $n > "$1/count"',
      'case $n in 1) echo "reload failed" >&2; exit 3;; 2) exec sleep 60;; esac',
      'printf "%s" "$SIAD_CHANGED_FILES" > "$1/tmp.$n" && mv "$1/tmp.$n" "$1/changed.$n"',
    ].join('\n'));
    const config = join(dir, 'hooks-sia_config');
    const healthPort = await freePort();
    writeFileSync(config, JSON.stringify({
      service: 'api', refresh_interval: 0.03, http_port: healthPort, run_after: `/bin/sh ${script} ${hookDir}`, run_after_timeout: 2,
      accounts: [{ domain: 'sports', account: ACCOUNT, roles: { 'sports:role.readers': {} } }],
    }));
    const d = daemon(['-config', config], task.env, siadir);
    const status = async () => (await fetch(`http://127.0.0.1:${healthPort}/status`)).status;
    try {
      await d.waitFor(/run_after \/bin\/sh failed \(exit status 3\): reload failed/);
      assert.equal(await status(), 200, 'healthy after a failed hook');
      await d.waitFor(/run_after \/bin\/sh was killed after 2s \(run_after_timeout\)/, 1, 30_000);
      assert.equal(await status(), 200, 'healthy after a hook that hung');
      // Later runs succeed. A pass may renew only the role certificate (it has its own schedule), so look for
      // a run that followed a new service certificate.
      let changed: string[] | undefined;
      for (const deadline = Date.now() + 30_000; !changed;) {
        assert.ok(Date.now() < deadline, `no successful hook run after a new service certificate:\n${d.out}`);
        changed = readdirSync(hookDir).filter((f) => f.startsWith('changed.'))
          .map((f) => readFileSync(join(hookDir, f), 'utf8').split('\n'))
          .find((files) => files.includes(paths(siadir).cert));
        if (!changed) await new Promise((r) => setTimeout(r, 100)); // poll, with the deadline above
      }
      assert.ok(changed.includes(join(siadir, 'certs', 'sports:role.readers.cert.pem')), `and the role certificate written in the same pass: ${changed.join(', ')}`);
      // Counted once each: the runs never overlapped, so no two of them took the same number.
      let metrics = '';
      for (const deadline = Date.now() + 30_000; !/^siad_hook_runs_total\{hook="run_after",result="ok"\} [1-9]/m.test(metrics);) {
        assert.ok(Date.now() < deadline, `no successful hook run counted:\n${metrics}\n${d.out}`);
        metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
        await new Promise((r) => setTimeout(r, 100)); // poll, with the deadline above
      }
      assert.match(metrics, /^siad_hook_runs_total\{hook="run_after",result="failed"\} 1$/m, metrics);
      assert.match(metrics, /^siad_hook_runs_total\{hook="run_after",result="timeout"\} 1$/m);
      assert.equal(await status(), 200);
      assert.ok(d.alive());
    } finally {
      assert.equal(await d.stop(), 0, d.out);
    }
  });
});

describe('refusals, each with the message a person needs', () => {
  test('role not trusted: the role ARN tried, the caller, and the trust statement to add', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'weather.api-service', account: ACCOUNT });
    const r = await siad(['-cmd', 'post', '-config', NO_CONFIG], { ...task.env, ATHENZ_SIA_IAM_ROLE_ARN: arn('sports.api') }, join(dir, 'untrusted'));
    assert.equal(r.status, 1);
    assert.match(r.out, /AWS refused to let arn:aws:sts::123456789012:assumed-role\/weather\.api-service\/\S+ assume arn:aws:iam::123456789012:role\/sports\.api\b/);
    assert.match(r.out, /Add this statement to its trust policy:\n\{\n {2}"Effect": "Allow",\n {2}"Principal": \{\n {4}"AWS": "arn:aws:iam::123456789012:role\/weather\.api-service"\n {2}\},\n {2}"Action": "sts:AssumeRole"\n\}/);
    assert.ok(!existsSync(join(dir, 'untrusted', 'keys')), 'nothing written');
  });

  test('provider not allowed: ZTS\'s message with the Allow step', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'sports.noprov-service', account: ACCOUNT });
    const r = await siad(['-cmd', 'post', '-config', NO_CONFIG], task.env, join(dir, 'noprov'));
    assert.equal(r.status, 1);
    assert.match(r.out, /ZTS refused to register sports\.noprov \(403\): .*provider 'athenz\.aws\.us-west-2' not authorized to launch sports\.noprov instances/);
    assert.match(r.out, /zms-cli -d sports set-domain-template aws_instance_launch_provider service=noprov/);
  });

  test('account not registered: names the set-aws-account command', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'media.api-service', account: ACCOUNT });
    const r = await siad(['-cmd', 'post', '-config', NO_CONFIG], task.env, join(dir, 'media'));
    assert.equal(r.status, 1);
    assert.match(r.out, /ZTS refused to register media\.api \(403\): .*domain media has no AWS account registered; run: zms-cli -d media set-aws-account <aws-account-id>/);
  });

  test('no identity anywhere: the three places searched; a wrong ZTS server name; unknown commands and flags', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'noname', account: ACCOUNT });
    const r = await siad(['-cmd', 'post', '-config', NO_CONFIG], task.env, join(dir, 'noname'));
    assert.equal(r.status, 1);
    assert.match(r.out, /no identity configured; searched: the config file \/nonexistent\/sia_config \(not found\), the variable ATHENZ_SIA_IAM_ROLE_ARN \(not set\), and the workload's IAM role name noname/);
    // The daemon gives up on a configuration that cannot work, instead of retrying forever.
    const d = await siad(['-config', NO_CONFIG], task.env, join(dir, 'noname'));
    assert.equal(d.status, 1);
    assert.match(d.out, /no identity configured/);
    const bad = await siad(['-cmd', 'launch'], task.env, join(dir, 'bad'));
    assert.equal(bad.status, 1);
    assert.match(bad.out, /unknown -cmd launch/);
    // -ztsservername is the name ZTS's certificate must carry.
    const good = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT });
    const wrongName = await siad(['-cmd', 'post', '-config', NO_CONFIG, '-ztsservername', 'zts.elsewhere.example'], good.env, join(dir, 'bad'));
    assert.equal(wrongName.status, 1);
    assert.match(wrongName.out, /cannot reach ZTS at https:\/\/localhost:\d+\/zts\/v1: .*zts\.elsewhere\.example/);
    const flag = await siad(['-regionalsts', 'false'], task.env, join(dir, 'bad'));
    assert.equal(flag.status, 2);
    assert.match(flag.out, /unexpected argument false/);
  });
});

describe('the bundle', () => {
  test('npm run build writes dist/siad.mjs and its chunks, which run -version and register a Fargate task', async () => {
    execFileSync('npm', ['run', 'build', '-w', 'packages/sia'], { cwd: ROOT, stdio: 'pipe' });
    // Away from node_modules, as in a container image.
    const alone = join(dir, 'image', 'siad.mjs');
    cpSync(join(ROOT, 'packages/sia/dist'), join(dir, 'image'), { recursive: true });
    assert.match(execFileSync(process.execPath, [alone, '-version'], { encoding: 'utf8' }), /^siad \(Tessera\) \d+\.\d+\.\d+\n$/);
    // Built-ins come in as CommonJS objects (packages/sia/build.mjs): an ES import of one reads all its exports,
    // and from Node 22 on node:http's WebSocket getter loads undici (which kills a --lite-mode process on Node 22).
    for (const f of ['siad.mjs', ...readdirSync(join(dir, 'image', 'chunks')).map((c) => join('chunks', c))]) {
      assert.deepEqual(readFileSync(join(dir, 'image', f), 'utf8').match(/from "node:[^"]+"|import\("node:[^"]+"\)/g), null, `${f} imports a built-in as an ES module`);
    }
    const listModules = `data:text/javascript,process.on('exit', () => console.error(process.moduleLoadList.join(',')))`;
    const loaded = spawnSync(process.execPath, ['--import', listModules, alone, '-version'], { encoding: 'utf8' }).stderr;
    assert.match(loaded, /NativeModule https/);
    assert.doesNotMatch(loaded, /NativeModule (internal\/deps\/undici|http2)/);
    const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
    const siadir = join(dir, 'bundle');
    const r = await siad(['-cmd', 'post', '-config', NO_CONFIG], task.env, siadir, alone);
    assert.equal(r.status, 0, r.out);
    checkFiles(siadir, task.taskId);
  });
});

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
