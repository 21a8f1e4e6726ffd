/**
 * siad attests with a token when the platform offers one, as a separate
 * process against a real tessera server and aws-sim: the EKS pod's projected
 * service-account token (TESSERA_SA_TOKEN_FILE), or GetWebIdentityToken when
 * aws_web_identity is on, falling back to STS credentials and saying so.
 * `-cmd diagnose` checks the token link. ZTS's STS calls are read from /metrics.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand, EnableOutboundWebIdentityFederationCommand, IAMClient } from '@aws-sdk/client-iam';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy, podIdentityTrustPolicy, serviceTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { startTestServer, ztsMetric, type TestServer } from '@tessera/server/test/support/test-server';

const ROOT = new URL('..', import.meta.url).pathname;
const SIAD = join(ROOT, 'packages/sia/bin/siad.js');
const ACCOUNT = '123456789012';
const arn = (role: string) => `arn:aws:iam::${ACCOUNT}:role/${role}`;

let sim: AwsSim;
let t: TestServer;
let dir: string;
let caFile: string;
let ztsPort: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-siad-token-'));
  sim = await startAwsSim({ filesDir: join(dir, 'sim') });
  const zts = sim.createAccessKey('999999999999', { userName: 'zts' });
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: zts.accessKeyId, AWS_SECRET_ACCESS_KEY: zts.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' });
  t = await startTestServer('sqlite', { awsStsEndpoint: sim.url, awsIamEndpoint: sim.url, awsOidcEndpoint: `${sim.url}/oidc` });
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, t.ca);
  ztsPort = Number(new URL(t.server.ztsUrl).port);
  for (const [m, p, b] of [
    ['POST', '/domain', { name: 'sports', adminUsers: ['user.admin'] }],
    ['PUT', '/domain/sports/meta/system/account', { account: ACCOUNT }],
    ['PUT', '/domain/sports/service/api', { name: 'sports.api' }],
    ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
  ] as [string, string, unknown][]) {
    const r = await t.admin.call(m, p, b);
    assert.ok(r.status < 300, `${m} ${p}: ${r.text}`);
  }
  const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.createAccessKey(ACCOUNT, { userName: 'admin' }) });
  const role = (name: string, policy: string) => iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: policy }));
  await role('oidc-issuers-reader', awsTrustPolicy(zts.arn));
  await role('sports.api-service', podIdentityTrustPolicy());
  await role('sports.task-service', serviceTrustPolicy('ecs-tasks.amazonaws.com'));
  await role('sports.other-pod', podIdentityTrustPolicy());
  await role('sports.api', awsTrustPolicy([arn('sports.api-service'), arn('sports.task-service')]));
  sim.eksCluster({ account: ACCOUNT, cluster: 'prod' });
  iam.destroy();
});

after(async () => {
  await t?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

function siad(args: string[], env: Record<string, string>, siadir: string): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SIAD, '-dnsdomains', 'aws.athenz.cloud', '-providerprefix', 'athenz.aws', '-zts', 'localhost',
      '-ztsport', String(ztsPort), '-ztscacert', caFile, '-siadir', siadir, '-config', '/nonexistent/sia_config', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (status) => resolve({ status, out }));
  });
}

const stsCalls = () => ztsMetric(t, 'tessera_zts_aws_calls_total{call="sts:GetCallerIdentity",reason="sts-attestation"}');

const podEnv = async (tokenAudience: string) => {
  const pod = await sim.launchEksPod({ mode: 'pod-identity', role: 'sports.api-service', account: ACCOUNT, cluster: 'prod', namespace: 'sports', serviceAccount: 'sports.api', tokenAudience });
  return { ...pod.env, ATHENZ_SIA_POD_NAMESPACE: pod.namespace };
};

test('EKS: post and rotate with the projected token, no STS call from ZTS; diagnose checks the token link', async () => {
  const env = await podEnv(t.server.ztsUrl);
  const before = await stsCalls();
  const siadir = join(dir, 'pod');
  const post = await siad(['-cmd', 'post'], env, siadir);
  assert.equal(post.status, 0, post.out);
  assert.match(post.out, /sports\.api: attestation by eks-token \(.*tessera\/token\)/);
  const rotate = await siad(['-cmd', 'rotate'], env, siadir);
  assert.equal(rotate.status, 0, rotate.out);
  assert.equal(await stsCalls(), before, 'ZTS made no STS call');

  const diag = await siad(['-cmd', 'diagnose'], env, join(dir, 'diag'));
  assert.equal(diag.status, 0, diag.out);
  assert.match(diag.out, /✓ identity token: the projected token .* for https:\/\/localhost:\d+\/zts\/v1, service account sports\.api; issuer https:\/\/oidc\.eks\.us-west-2\.amazonaws\.com\/id\/\w+ is an OIDC provider of account 123456789012/);
  assert.equal(diag.out.trimEnd().split('\n').filter((l) => l.startsWith('✓ ')).length, 7, diag.out);
});

test('EKS: a pod attested by its token makes no AWS call of its own (STS unreachable), with Pod Identity and with IRSA', async () => {
  for (const mode of ['pod-identity', 'irsa'] as const) {
    const pod = await sim.launchEksPod({ mode, role: 'sports.api-service', account: ACCOUNT, cluster: 'prod', namespace: 'sports', serviceAccount: 'sports.api', tokenAudience: t.server.ztsUrl });
    // A closed loopback port: any STS call siad made would fail the command.
    const env = { ...pod.env, ATHENZ_SIA_POD_NAMESPACE: 'sports', AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:1' };
    const post = await siad(['-cmd', 'post'], env, join(dir, `no-sts-${mode}`));
    assert.equal(post.status, 0, `${mode}: ${post.out}`);
    assert.match(post.out, /sports\.api \(from service account sports\.api\) on eks/);
    assert.match(post.out, /attestation by eks-token/);
  }
  // Without a token siad must ask STS who the pod is, and says that is what failed.
  const pod = await sim.launchEksPod({ mode: 'pod-identity', role: 'sports.api-service', account: ACCOUNT, cluster: 'prod', namespace: 'sports', serviceAccount: 'sports.api' });
  const post = await siad(['-cmd', 'post'], { ...pod.env, AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:1' }, join(dir, 'no-sts-no-token'));
  assert.equal(post.status, 1, post.out);
  assert.match(post.out, /error: STS GetCallerIdentity \(who the workload is\) failed: .*ECONNREFUSED 127\.0\.0\.1:1/);
});

test('EKS: the token path needs no AssumeRole; diagnose says the STS fallback would fail', async () => {
  const pod = await sim.launchEksPod({ mode: 'pod-identity', role: 'sports.other-pod', account: ACCOUNT, cluster: 'prod', namespace: 'sports', serviceAccount: 'sports.api', tokenAudience: t.server.ztsUrl });
  const env = { ...pod.env, ATHENZ_SIA_POD_NAMESPACE: 'sports', ATHENZ_SIA_IAM_ROLE_ARN: arn('sports.api') };
  const diag = await siad(['-cmd', 'diagnose'], env, join(dir, 'diag-other'));
  assert.equal(diag.status, 0, diag.out);
  assert.match(diag.out, /✓ AssumeRole of arn:aws:iam::123456789012:role\/sports\.api: refused \(AWS refused to let .*sports\.other-pod.*\); not needed while the pod's token is used, but the STS fallback would fail/);
  const post = await siad(['-cmd', 'post'], env, join(dir, 'pod-other'));
  assert.equal(post.status, 0, post.out);
  assert.match(post.out, /attestation by eks-token/);
});

test('EKS: a token for another audience is a broken link in diagnose, and post falls back to nothing else', async () => {
  const env = await podEnv('sts.amazonaws.com');
  const diag = await siad(['-cmd', 'diagnose'], env, join(dir, 'diag-aud'));
  assert.equal(diag.status, 1, diag.out);
  assert.match(diag.out, /✗ identity token: the projected token .* is for sts\.amazonaws\.com, not ZTS \(https:\/\/localhost:\d+\/zts\/v1\)/);
  assert.match(diag.out, /set the projected volume's audience to https:\/\/localhost/);
  const post = await siad(['-cmd', 'post'], env, join(dir, 'pod-aud'));
  assert.notEqual(post.status, 0);
  assert.match(post.out, /audience sts\.amazonaws\.com is meant for AWS, not ZTS/);
});

test('Fargate with aws_web_identity: STS fallback while the account has it off (and says why), the token once enabled', async () => {
  const task = await sim.launchFargateTask({ taskRole: 'sports.task-service', account: ACCOUNT, cluster: 'prod' });
  const env = { ...task.env, ATHENZ_SIA_AWS_WEB_IDENTITY: 'true', ATHENZ_SIA_IAM_ROLE_ARN: arn('sports.api') };
  const before = await stsCalls();
  const off = await siad(['-cmd', 'post'], env, join(dir, 'task-off'));
  assert.equal(off.status, 0, off.out);
  assert.match(off.out, /attestation by sts: the token path failed \(STS GetWebIdentityToken failed: OutboundWebIdentityFederationDisabledException/);
  assert.equal(await stsCalls(), before + 1);
  const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.rootCredentials(ACCOUNT) });
  await iam.send(new EnableOutboundWebIdentityFederationCommand({}));
  iam.destroy();
  const on = await siad(['-cmd', 'post'], env, join(dir, 'task-on'));
  assert.equal(on.status, 0, on.out);
  assert.match(on.out, /attestation by aws-token \(GetWebIdentityToken, audience https:\/\/localhost:\d+\/zts\/v1\)/);
  assert.equal(await stsCalls(), before + 1, 'no STS call for the token register');
});
