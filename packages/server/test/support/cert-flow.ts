/**
 * Drives a test server through what a real deployment sees, for tests that
 * look at its logs and metrics: password sign-ins (good and bad), a browser
 * session, ZMS calls with the token, a Fargate task's register, refresh and
 * role certificate, and a refused register.
 */
import assert from 'node:assert/strict';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { fromContainerMetadata } from '@aws-sdk/credential-providers';
import type { AwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy, serviceTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { httpsJson } from '@tessera/core/https-client';
import { createCsr } from '@tessera/core/x509/csr';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { ADMIN_PASSWORD, type TestServer } from './test-server.ts';
import { assumeRole, attestation, serviceCsr, withEnv, ztsCall, type AwsCreds } from './workload.ts';

export const ACCOUNT = '123456789012';
export const PROVIDER = 'athenz.aws.us-west-2';

/** A domain `sports` with service `api` allowed on the AWS provider, and its IAM roles in aws-sim. */
export async function setUpSports(t: { admin: Pick<TestServer['admin'], 'call'> }, sim: AwsSim): Promise<void> {
  for (const [m, p, b] of [
    ['POST', '/domain', { name: 'sports', adminUsers: ['user.admin'] }],
    ['PUT', '/domain/sports/meta/system/account', { account: ACCOUNT }],
    ['PUT', '/domain/sports/service/api', { name: 'sports.api' }],
    ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
    ['PUT', '/domain/sports/role/readers', { roleMembers: [{ memberName: 'sports.api' }] }],
  ] as [string, string, unknown][]) {
    const r = await t.admin.call(m, p, b);
    assert.ok(r.status < 300, `${m} ${p}: ${r.text}`);
  }
  const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.createAccessKey(ACCOUNT, { userName: 'admin' }) });
  await iam.send(new CreateRoleCommand({ RoleName: 'sports.api-service', AssumeRolePolicyDocument: serviceTrustPolicy('ecs-tasks.amazonaws.com') }));
  await iam.send(new CreateRoleCommand({ RoleName: 'sports.api', AssumeRolePolicyDocument: awsTrustPolicy([`arn:aws:iam::${ACCOUNT}:role/sports.api-service`]) }));
  iam.destroy();
}

/** A Fargate task of sports.api: its task id and credentials of the assumed sports.api role. */
export async function fargateCreds(sim: AwsSim): Promise<{ creds: AwsCreds; taskId: string }> {
  const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, region: 'us-west-2', cluster: 'prod' });
  const base = await withEnv(task.env, () => fromContainerMetadata()());
  return { creds: await assumeRole(sim.url, 'us-west-2', base, `arn:aws:iam::${ACCOUNT}:role/sports.api`, 'sports.api'), taskId: task.taskId };
}

/**
 * Everything the log and metric tests want to see once; asserts each step did
 * what it should. Issues 3 certificates (register, refresh, role) and refuses
 * 2 registers (an unknown service: 400; credentials STS rejects: 403).
 */
export async function driveCertFlow(t: TestServer, sim: AwsSim): Promise<{ refused: string }> {
  const zts = t.server.ztsUrl;
  // Sign-ins: a wrong password, a browser session, a token used for ZMS calls.
  await assert.rejects(t.login('admin', 'not-the-password'), /401/);
  const session = await httpsJson<{ csrfToken: string }>({ method: 'POST', url: `${t.url}/session`, ca: t.ca, body: { user: 'admin', password: ADMIN_PASSWORD } });
  assert.equal(session.status, 200, session.text);
  const admin = await t.login('admin', ADMIN_PASSWORD);
  assert.equal((await admin.call('GET', '/domain/sports')).status, 200);

  const { creds, taskId } = await fargateCreds(sim);
  const register = async (service: string, presented = creds) => {
    const { keyPem, csr } = await serviceCsr({ domain: 'sports', service, provider: PROVIDER, instanceId: taskId });
    const res = await ztsCall(zts, t.ca, 'POST', '/instance', { provider: PROVIDER, domain: 'sports', service, csr, attestationData: attestation(`sports.${service}`, presented) });
    return { res, keyPem };
  };
  const reg = await register('api');
  assert.equal(reg.res.status, 201, reg.res.text);
  const current = { cert: reg.res.body.x509Certificate, key: reg.keyPem };

  const next = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId: taskId });
  const ref = await ztsCall(zts, t.ca, 'POST', `/instance/${PROVIDER}/sports/api/${taskId}`, { csr: next.csr, attestationData: attestation('sports.api', creds) }, current);
  assert.equal(ref.status, 200, ref.text);
  const renewed = { cert: ref.body.x509Certificate, key: next.keyPem };

  const roleKey = generateKeyPair('rsa').privateKeyPem;
  const roleCsr = await createCsr({
    keyPem: roleKey,
    subject: { commonName: 'sports:role.readers', organizationalUnit: PROVIDER },
    uris: ['spiffe://sports/ra/readers', `athenz://instanceid/${PROVIDER}/${taskId}`, 'athenz://principal/sports.api'],
  });
  const role = await ztsCall(zts, t.ca, 'POST', '/rolecert', { csr: roleCsr }, renewed);
  assert.equal(role.status, 200, role.text);

  // Refused: the service does not exist.
  const refused = await register('nosuch');
  assert.equal(refused.res.status, 400, refused.res.text);
  // Refused by STS: a wrong secret key.
  const forged = await register('api', { ...creds, secretAccessKey: `${creds.secretAccessKey.slice(0, -2)}xx` });
  assert.equal(forged.res.status, 403, forged.res.text);
  assert.match(forged.res.body.message, /AWS STS rejected the presented credentials/);
  return { refused: refused.res.body.message };
}
