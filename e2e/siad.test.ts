/**
 * siad as a separate process, with exactly the environment aws-sim gives a
 * Fargate task or an EKS pod, against a real tessera server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy, podIdentityTrustPolicy, serviceTrustPolicy, webIdentityTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { keyMatchesCertificate } from '@tessera/core/x509/keys';
import { parseCertificate } from '@tessera/core/x509/certificate';
import { startTestServer, type TestServer } from '@tessera/server/test/support/test-server';

const SIAD = new URL('../packages/sia/bin/siad.js', import.meta.url).pathname;
const ACCOUNT = '123456789012';
let sim: AwsSim;
let t: TestServer;
let dir: string;
let caFile: string;

function siad(args: string[], env: Record<string, string>, siadir: string): Promise<{ status: number | null; out: string }> {
  const full = ['-zts', 'localhost', '-ztsport', new URL(t.server.ztsUrl).port, '-ztscacert', caFile, '-dnsdomains', 'aws.athenz.cloud',
    '-providerprefix', 'athenz.aws', '-siadir', siadir, ...args];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SIAD, ...full], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (status) => resolve({ status, out }));
  });
}

const iam = (account: string) => new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.createAccessKey(account, { userName: 'admin' }) });
const arn = (account: string, role: string) => `arn:aws:iam::${account}:role/${role}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-siad-'));
  sim = await startAwsSim({ filesDir: join(dir, 'sim') });
  t = await startTestServer('sqlite', { awsStsEndpoint: sim.url });
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, t.ca);
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
    ['sports.noprov-service', serviceTrustPolicy('ecs-tasks.amazonaws.com')],
    ['media.api-service', serviceTrustPolicy('ecs-tasks.amazonaws.com')],
    ['weather.api-service', serviceTrustPolicy('ecs-tasks.amazonaws.com')],
  ]) await c.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust }));
  await c.send(new CreateRoleCommand({
    RoleName: 'sports.api',
    AssumeRolePolicyDocument: awsTrustPolicy(['sports.api-service', 'sports.pod-service', 'sports.irsa-service'].map((r) => arn(ACCOUNT, r))),
  }));
  await c.send(new CreateRoleCommand({ RoleName: 'sports.noprov', AssumeRolePolicyDocument: awsTrustPolicy(arn(ACCOUNT, 'sports.noprov-service')) }));
  await c.send(new CreateRoleCommand({ RoleName: 'media.api', AssumeRolePolicyDocument: awsTrustPolicy(arn(ACCOUNT, 'media.api-service')) }));
  await c.send(new CreateRoleCommand({ RoleName: 'weather.api', AssumeRolePolicyDocument: awsTrustPolicy(arn(ACCOUNT, 'sports.api-service')) }));
  c.destroy();
});

after(async () => {
  await t?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

function checkFiles(siadir: string, instanceId: string): string {
  const key = join(siadir, 'keys', 'sports.api.key.pem');
  const cert = join(siadir, 'certs', 'sports.api.cert.pem');
  const ca = join(siadir, 'certs', 'ca.cert.pem');
  assert.equal(statSync(key).mode & 0o777, 0o440);
  assert.equal(statSync(cert).mode & 0o777, 0o444);
  assert.match(execFileSync('openssl', ['verify', '-CAfile', ca, cert], { encoding: 'utf8' }), /OK/);
  assert.ok(keyMatchesCertificate(readFileSync(key, 'utf8'), readFileSync(cert, 'utf8')));
  const info = parseCertificate(readFileSync(cert, 'utf8'));
  assert.equal(info.commonName, 'sports.api');
  assert.ok(info.uris.includes(`athenz://instanceid/athenz.aws.us-west-2/${instanceId}`));
  assert.equal(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / 86_400_000), 7);
  return info.serialHex;
}

describe('siad in a Fargate task', () => {
  test('post with no config finds sports/api from the task role; rotate; the old certificate cannot refresh; rolecert', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
    const siadir = join(dir, 'fargate');
    const env = { ...task.env, ATHENZ_SIA_ROLES: 'sports:role.readers' };
    const post = await siad(['-cmd', 'post', '-config', join(dir, 'none')], env, siadir);
    assert.equal(post.status, 0, post.out);
    assert.match(post.out, /sports\.api \(from IAM role sports\.api-service\) on fargate/);
    const first = checkFiles(siadir, task.taskId);
    const oldKey = readFileSync(join(siadir, 'keys', 'sports.api.key.pem'), 'utf8');
    const oldCert = readFileSync(join(siadir, 'certs', 'sports.api.cert.pem'), 'utf8');

    const rotate = await siad(['-cmd', 'rotate', '-config', join(dir, 'none')], env, siadir);
    assert.equal(rotate.status, 0, rotate.out);
    assert.notEqual(checkFiles(siadir, task.taskId), first);
    assert.ok(statSync(join(siadir, 'certs', 'sports.api.cert.pem.bak')), 'previous certificate kept as a backup');

    // Put the old files back, as a copier would: refreshing with them is refused (and revokes the instance).
    const replay = join(dir, 'replay');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(replay, 'keys'), { recursive: true });
    mkdirSync(join(replay, 'certs'), { recursive: true });
    writeFileSync(join(replay, 'keys', 'sports.api.key.pem'), oldKey);
    writeFileSync(join(replay, 'certs', 'sports.api.cert.pem'), oldCert);
    const stale = await siad(['-cmd', 'rotate', '-config', join(dir, 'none')], env, replay);
    assert.equal(stale.status, 1);
    assert.match(stale.out, /ZTS refused to refresh the certificate \(403\): Certificate revoked/);

    const again = await siad(['-cmd', 'post,rolecert', '-config', join(dir, 'none')], env, siadir);
    assert.equal(again.status, 0, again.out);
    const role = join(siadir, 'certs', 'sports:role.readers.cert.pem');
    assert.match(execFileSync('openssl', ['verify', '-CAfile', join(siadir, 'certs', 'ca.cert.pem'), role], { encoding: 'utf8' }), /OK/);
    assert.equal(parseCertificate(readFileSync(role, 'utf8')).commonName, 'sports:role.readers');
  });
});

describe('siad in an EKS pod', () => {
  for (const mode of ['pod-identity', 'irsa'] as const) {
    test(`${mode}: post uses the pod name as the instance id`, async () => {
      const pod = await sim.launchEksPod({ mode, role: mode === 'irsa' ? 'sports.irsa-service' : 'sports.pod-service', account: ACCOUNT, cluster: 'prod', namespace: 'default', podName: `api-${mode}` });
      const siadir = join(dir, `eks-${mode}`);
      // The role name says sports.pod; the ATHENZ_SIA_* variables come first and say sports.api.
      const env = { ...pod.env, ATHENZ_SIA_DOMAIN_NAME: 'sports', ATHENZ_SIA_SERVICE_NAME: 'api' };
      const r = await siad(['-cmd', 'post', '-config', join(dir, 'none')], env, siadir);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /sports\.api \(from ATHENZ_SIA_\* environment\) on eks, instance api-/);
      checkFiles(siadir, pod.podName);
    });
  }
});

describe('refusals, with the message a person needs', () => {
  test('role not trusted: names the role ARN, the caller and the statement to add', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'weather.api-service', account: ACCOUNT });
    const r = await siad(['-cmd', 'post', '-config', join(dir, 'none')], { ...task.env, ATHENZ_SIA_DOMAIN_NAME: 'sports', ATHENZ_SIA_SERVICE_NAME: 'api' }, join(dir, 'untrusted'));
    assert.equal(r.status, 1);
    assert.match(r.out, /AWS refused to let arn:aws:sts::123456789012:assumed-role\/weather\.api-service\/\S+ assume arn:aws:iam::123456789012:role\/sports\.api/);
    assert.match(r.out, /"AWS": "arn:aws:iam::123456789012:role\/weather\.api-service"/);
  });

  test('provider not allowed: ZTS\'s message with the Allow step', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'sports.noprov-service', account: ACCOUNT });
    const r = await siad(['-cmd', 'post', '-config', join(dir, 'none')], task.env, join(dir, 'noprov'));
    assert.equal(r.status, 1);
    assert.match(r.out, /ZTS refused to register the instance \(403\): provider 'athenz\.aws\.us-west-2' not authorized to launch sports\.noprov instances/);
    assert.match(r.out, /set-domain-template aws_instance_launch_provider service=noprov/);
  });

  test('account not registered: names the set-aws-account command', async () => {
    const task = await sim.launchFargateTask({ taskRole: 'media.api-service', account: ACCOUNT });
    const r = await siad(['-cmd', 'post', '-config', join(dir, 'none')], task.env, join(dir, 'media'));
    assert.equal(r.status, 1);
    assert.match(r.out, /domain media has no AWS account registered; run: zms-cli -d media set-aws-account/);
  });

  test('no identity anywhere: says which three places were searched; bad flags', async () => {
    const c = iam(ACCOUNT);
    await c.send(new CreateRoleCommand({ RoleName: 'noname', AssumeRolePolicyDocument: serviceTrustPolicy('ecs-tasks.amazonaws.com') }));
    c.destroy();
    const task = await sim.launchFargateTask({ taskRole: 'noname', account: ACCOUNT });
    const r = await siad(['-cmd', 'post', '-config', join(dir, 'none')], task.env, join(dir, 'noname'));
    assert.equal(r.status, 1);
    assert.match(r.out, /no identity configured; searched: the config file .*none, the variables ATHENZ_SIA_DOMAIN_NAME and ATHENZ_SIA_SERVICE_NAME, and the IAM role name noname/);
    const bad = await siad(['-cmd', 'launch'], task.env, join(dir, 'bad'));
    assert.equal(bad.status, 1);
    assert.match(bad.out, /unknown -cmd launch/);
    const version = await siad(['-version'], {}, join(dir, 'v'));
    assert.match(version.out, /siad \(Tessera\)/);
  });
});
