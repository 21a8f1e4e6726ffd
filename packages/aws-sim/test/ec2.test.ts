/** EC2: IMDSv2 serves instance-profile credentials and an identity document signed with the published certificate. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromInstanceMetadata, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { serviceTrustPolicy } from '../src/policy-templates.ts';
import { ACCOUNT, createRole, iamClient, startTestSim, stsClient, withAwsEnv, type TestSim } from './helpers.ts';

let t: TestSim;
let dir: string;
const roleArn = `arn:aws:iam::${ACCOUNT}:role/sports.api-service`;

before(async () => {
  t = await startTestSim();
  dir = mkdtempSync(join(tmpdir(), 'aws-sim-ec2-test-'));
  const iam = iamClient(t.sim, t.sim.rootCredentials(ACCOUNT));
  await createRole(iam, 'sports.api-service', serviceTrustPolicy('ec2.amazonaws.com'));
  await createRole(iam, 'tasks.only', serviceTrustPolicy('ecs-tasks.amazonaws.com'));
});
after(async () => {
  await t.sim.close();
  rmSync(dir, { recursive: true, force: true });
});

async function imdsToken(base: string): Promise<string> {
  const res = await fetch(`${base}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '300' } });
  assert.equal(res.status, 200);
  return res.text();
}

async function imdsGet(base: string, path: string, token?: string): Promise<Response> {
  return fetch(`${base}${path}`, { headers: token ? { 'x-aws-ec2-metadata-token': token } : {} });
}

/** openssl cms -verify against the published certificate; true when the signature holds. */
function opensslVerifies(pkcs7: string, document?: string): boolean {
  const sig = join(dir, 'sig.pem');
  const cert = join(dir, 'cert.pem');
  writeFileSync(sig, `-----BEGIN PKCS7-----\n${pkcs7}\n-----END PKCS7-----\n`);
  writeFileSync(cert, t.sim.identityDocumentCertPem);
  const args = ['cms', '-verify', '-inform', 'PEM', '-in', sig, '-certfile', cert, '-CAfile', cert, '-purpose', 'any', '-binary'];
  if (document !== undefined) {
    writeFileSync(join(dir, 'doc.json'), document);
    args.push('-content', join(dir, 'doc.json'));
  }
  try {
    execFileSync('openssl', [...args, '-out', join(dir, 'out.txt')], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

test('fromInstanceMetadata gets the instance profile role over IMDSv2', async () => {
  const instance = await t.sim.launchEc2Instance({ role: roleArn });
  assert.match(instance.instanceId, /^i-[0-9a-f]{17}$/);
  assert.equal(instance.env.AWS_EC2_METADATA_SERVICE_ENDPOINT, instance.imdsUrl);
  const creds = await withAwsEnv(instance.env, () => fromInstanceMetadata()());
  const who = await stsClient(t.sim, creds).send(new GetCallerIdentityCommand({}));
  assert.equal(who.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/sports.api-service/${instance.instanceId}`);
  const viaChain = await withAwsEnv(instance.env, () =>
    new STSClient({ credentials: fromNodeProviderChain() }).send(new GetCallerIdentityCommand({})),
  );
  assert.equal(viaChain.Arn, who.Arn);
});

test('IMDSv2: token required, metadata paths, instance profile info, tags', async () => {
  const instance = await t.sim.launchEc2Instance({ role: roleArn, region: 'eu-west-1', tags: { 'athenz-domain': 'sports' } });
  const base = instance.imdsUrl;
  assert.equal((await imdsGet(base, '/latest/meta-data/instance-id')).status, 401, 'IMDSv1 refused');
  assert.equal((await imdsGet(base, '/latest/meta-data/instance-id', 'bogus')).status, 401);
  const noTtl = await fetch(`${base}/latest/api/token`, { method: 'PUT' });
  assert.equal(noTtl.status, 400);
  const token = await imdsToken(base);
  assert.equal(await (await imdsGet(base, '/latest/meta-data/instance-id', token)).text(), instance.instanceId);
  assert.equal(await (await imdsGet(base, '/latest/meta-data/placement/region', token)).text(), 'eu-west-1');
  assert.equal(await (await imdsGet(base, '/latest/meta-data/iam/security-credentials/', token)).text(), 'sports.api-service');
  const info = (await (await imdsGet(base, '/latest/meta-data/iam/info', token)).json()) as Record<string, string>;
  assert.equal(info.InstanceProfileArn, `arn:aws:iam::${ACCOUNT}:instance-profile/sports.api-service`);
  assert.equal(await (await imdsGet(base, '/latest/meta-data/tags/instance/athenz-domain', token)).text(), 'sports');
  assert.equal((await imdsGet(base, '/latest/meta-data/nothing-here', token)).status, 404);
  // Session tokens expire with the simulator's clock.
  t.advance(301_000);
  try {
    assert.equal((await imdsGet(base, '/latest/meta-data/instance-id', token)).status, 401);
  } finally {
    t.advance(-301_000);
  }
});

test('the identity document signature verifies with the published certificate, and only for that document', async () => {
  const instance = await t.sim.launchEc2Instance({ role: roleArn, instanceType: 'm5.large' });
  const token = await imdsToken(instance.imdsUrl);
  const document = await (await imdsGet(instance.imdsUrl, '/latest/dynamic/instance-identity/document', token)).text();
  const pkcs7 = await (await imdsGet(instance.imdsUrl, '/latest/dynamic/instance-identity/pkcs7', token)).text();
  const doc = JSON.parse(document);
  assert.equal(doc.accountId, ACCOUNT);
  assert.equal(doc.instanceId, instance.instanceId);
  assert.equal(doc.region, 'us-west-2');
  assert.equal(doc.instanceType, 'm5.large');
  assert.match(doc.pendingTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.match(document, /"accountId" : "/, 'AWS layout');
  assert.ok(opensslVerifies(pkcs7), 'attached content verifies');
  assert.ok(opensslVerifies(pkcs7, document), 'document as detached content verifies (as ZTS checks it)');
  assert.ok(!opensslVerifies(pkcs7, document.replace(ACCOUNT, '999999999999')), 'a changed document does not');
  const other = await t.sim.launchEc2Instance({ role: roleArn });
  assert.ok(!opensslVerifies(pkcs7, other.document), "another instance's document does not");
});

test('httpTokens optional allows IMDSv1; roles must trust ec2.amazonaws.com; terminate stops IMDS', async () => {
  const instance = await t.sim.launchEc2Instance({ role: 'sports.api-service', account: ACCOUNT, httpTokens: 'optional' });
  const res = await imdsGet(instance.imdsUrl, '/latest/meta-data/local-ipv4');
  assert.equal(await res.text(), instance.privateIp);
  await assert.rejects(t.sim.launchEc2Instance({ role: 'tasks.only', account: ACCOUNT }), { code: 'AccessDenied' });
  await t.sim.terminateEc2Instance(instance.instanceId);
  await assert.rejects(fetch(`${instance.imdsUrl}/latest/meta-data/`));
});
