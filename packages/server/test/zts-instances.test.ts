/**
 * ZTS with a real server and aws-sim: register, refresh and role certificates
 * for a Fargate task, an EKS pod and an EC2 instance, with attestation made by
 * the real AWS SDK; each certificate checked with openssl. Then the refusals.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { fromContainerMetadata, fromInstanceMetadata } from '@aws-sdk/credential-providers';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy, podIdentityTrustPolicy, serviceTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { createCsr } from '@tessera/core/x509/csr';
import { generateKeyPair, keyMatchesCertificate } from '@tessera/core/x509/keys';
import { parseCertificate } from '@tessera/core/x509/certificate';
import { httpsJson } from '@tessera/core/https-client';
import { startTestServer, ztsMetric, type TestServer } from './support/test-server.ts';
import { assumeRole, attestation, serviceCsr, withEnv, ztsCall, type AwsCreds } from './support/workload.ts';

const ACCOUNT = '123456789012';
const OTHER = '210987654321';
const PROVIDER = 'athenz.aws.us-west-2';
const DAY = 86_400_000;

let sim: AwsSim;
let t: TestServer;
let dir: string;
let offset = 0;

function openssl(args: string[], files: Record<string, string>): string {
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8' });
}

/** What a Fargate task's siad does: task role credentials → AssumeRole sports.api. */
async function fargateCreds(taskRole = 'sports.api-service', account = ACCOUNT): Promise<{ creds: AwsCreds; taskId: string }> {
  const task = await sim.launchFargateTask({ taskRole, account, region: 'us-west-2', cluster: 'prod' });
  const base = await withEnv(task.env, () => fromContainerMetadata()());
  return { creds: await assumeRole(sim.url, 'us-west-2', base, `arn:aws:iam::${account}:role/sports.api`, 'sports.api'), taskId: task.taskId };
}

async function register(creds: AwsCreds, instanceId: string, extra: { role?: string; keyPem?: string; attestationExtra?: Record<string, string>; expiryTime?: number; service?: string; body?: Record<string, unknown> } = {}) {
  const service = extra.service ?? 'api';
  const { keyPem, csr } = await serviceCsr({ domain: 'sports', service, provider: PROVIDER, instanceId, keyPem: extra.keyPem });
  const res = await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/instance', {
    provider: PROVIDER, domain: 'sports', service, csr,
    attestationData: attestation(extra.role ?? `sports.${service}`, creds, extra.attestationExtra),
    ...(extra.expiryTime ? { expiryTime: extra.expiryTime } : {}),
    ...extra.body,
  });
  return { res, keyPem };
}

async function refresh(creds: AwsCreds, instanceId: string, current: { cert: string; key: string }) {
  const { keyPem, csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId });
  const res = await ztsCall(t.server.ztsUrl, t.ca, 'POST', `/instance/${PROVIDER}/sports/api/${instanceId}`, {
    csr, attestationData: attestation('sports.api', creds),
  }, current);
  return { res, keyPem };
}

function checkCert(certPem: string, days: number, instanceId: string): void {
  assert.match(openssl(['verify', '-CAfile', 'ca.pem', 'c.pem'], { 'ca.pem': t.ca, 'c.pem': certPem }), /c\.pem: OK/);
  const text = openssl(['x509', '-in', 'c.pem', '-noout', '-text'], { 'c.pem': certPem });
  assert.match(text, /Subject: .*CN ?= ?sports\.api/);
  assert.match(text, /DNS:api\.sports\.aws\.athenz\.cloud/);
  assert.match(text, /URI:spiffe:\/\/sports\/sa\/api/);
  assert.ok(text.includes(`URI:athenz://instanceid/${PROVIDER}/${instanceId}`), text);
  const info = parseCertificate(certPem);
  assert.equal(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / DAY), days);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-zts-'));
  sim = await startAwsSim({ clock: () => new Date(Date.now() + offset) });
  writeFileSync(join(dir, 'aws-doc.pem'), sim.identityDocumentCertPem);
  t = await startTestServer('sqlite', { awsStsEndpoint: sim.url, awsDocumentCert: join(dir, 'aws-doc.pem') });
  for (const [m, p, b] of [
    ['POST', '/domain', { name: 'sports', adminUsers: ['user.admin'] }],
    ['PUT', '/domain/sports/meta/system/account', { account: ACCOUNT }],
    ['PUT', '/domain/sports/service/api', { name: 'sports.api' }],
    ['PUT', '/domain/sports/service/web', { name: 'sports.web' }],
    ['PUT', '/domain/sports/service/noprov', { name: 'sports.noprov' }],
    ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
    ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'web' }] }],
    ['PUT', '/domain/sports/role/readers', { roleMembers: [{ memberName: 'sports.api' }] }],
  ] as [string, string, unknown][]) {
    const r = await t.admin.call(m, p, b);
    assert.ok(r.status < 300, `${m} ${p}: ${r.text}`);
  }
  const admin = sim.createAccessKey(ACCOUNT, { userName: 'admin' });
  const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: admin });
  const role = (name: string, policy: string) => iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: policy }));
  await role('sports.api-service', serviceTrustPolicy('ecs-tasks.amazonaws.com'));
  await role('sports.pod', podIdentityTrustPolicy());
  await role('sports.vm', serviceTrustPolicy('ec2.amazonaws.com'));
  await role('weather.api-service', serviceTrustPolicy('ecs-tasks.amazonaws.com'));
  const arn = (n: string) => `arn:aws:iam::${ACCOUNT}:role/${n}`;
  await role('sports.api', awsTrustPolicy([arn('sports.api-service'), arn('sports.pod'), arn('sports.vm')]));
  await role('sports.web', awsTrustPolicy([arn('sports.api-service')]));
  await role('sports.noprov', awsTrustPolicy([arn('sports.api-service')]));
  iam.destroy();
});

after(async () => {
  await t?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('issuing certificates', () => {
  test('Fargate task: register (7 days), refresh over mTLS, role certificate', async () => {
    const { creds, taskId } = await fargateCreds();
    const { res, keyPem } = await register(creds, taskId);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.location, `/zts/v1/instance/${PROVIDER}/sports/api/${taskId}`);
    assert.equal(res.body.name, 'sports.api');
    assert.equal(res.body.instanceId, taskId);
    assert.equal(res.body.x509CertificateSigner, t.ca);
    checkCert(res.body.x509Certificate, 7, taskId);

    const fresh = (await fargateCreds()).creds;
    const r2 = await refresh(fresh, taskId, { cert: res.body.x509Certificate, key: keyPem });
    assert.equal(r2.res.status, 200, r2.res.text);
    checkCert(r2.res.body.x509Certificate, 7, taskId);
    assert.notEqual(parseCertificate(r2.res.body.x509Certificate).serialHex, parseCertificate(res.body.x509Certificate).serialHex);

    const roleKey = generateKeyPair('rsa').privateKeyPem;
    const roleCsr = await createCsr({
      keyPem: roleKey,
      subject: { commonName: 'sports:role.readers', organizationalUnit: PROVIDER },
      uris: ['spiffe://sports/ra/readers', `athenz://instanceid/${PROVIDER}/${taskId}`, 'athenz://principal/sports.api'],
    });
    const mtls = { cert: r2.res.body.x509Certificate, key: r2.keyPem };
    const rc = await ztsCall<{ x509Certificate: string }>(t.server.ztsUrl, t.ca, 'POST', '/rolecert', { csr: roleCsr, expiryTime: 0 }, mtls);
    assert.equal(rc.status, 200, rc.text);
    assert.match(openssl(['verify', '-CAfile', 'ca.pem', 'r.pem'], { 'ca.pem': t.ca, 'r.pem': rc.body.x509Certificate }), /OK/);
    const text = openssl(['x509', '-in', 'r.pem', '-noout', '-text'], { 'r.pem': rc.body.x509Certificate });
    assert.match(text, /CN ?= ?sports:role\.readers/);
    assert.match(text, /URI:spiffe:\/\/sports\/ra\/readers/);
    assert.match(text, /URI:athenz:\/\/principal\/sports\.api/);
    assert.match(text, /TLS Web Client Authentication/);
    assert.ok(parseCertificate(rc.body.x509Certificate).notAfter <= parseCertificate(mtls.cert).notAfter, 'not past the service certificate');

    const legacy = await ztsCall<{ token: string; expiryTime: number }>(t.server.ztsUrl, t.ca, 'POST', '/domain/sports/role/readers/token', { csr: roleCsr, expiryTime: 60 }, mtls);
    assert.equal(legacy.status, 200, legacy.text);
    assert.match(legacy.body.token, /BEGIN CERTIFICATE/);

    const listed = await t.admin.call<{ instances: { instanceId: string; provider: string; revoked: boolean; expires: string }[] }>('GET', '/domain/sports/service/api/instances');
    const mine = listed.body.instances.find((i) => i.instanceId === taskId);
    assert.ok(mine, listed.text);
    assert.equal(mine.provider, PROVIDER);
    assert.equal(mine.revoked, false);

    // Athenz's UI reads instances from MSD: Tessera answers MSD's workload reads (msd.rdl's shapes) from the same records.
    const msd = (method: string, path: string, body?: unknown, token = t.admin.token) =>
      httpsJson<{ workloads: { dynamicWorkloadList: { domainName: string; serviceName: string; uuid: string; provider: string; ipAddresses: string[]; hostname: string; updateTime: string; certExpiryTime: string }[]; staticWorkloadList: unknown[] }; unmodifiedServices: unknown[]; code?: number }>({
        method, url: t.server.zmsUrl.replace('/zms/v1', '/msd/v1') + path, body, ca: t.ca, headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    const bulk = await msd('POST', '/workloads', { domainServices: [{ domainName: 'sports', serviceNames: ['api', 'noprov'] }, { domainName: 'no-such-domain', serviceNames: ['api'] }] });
    assert.equal(bulk.status, 200, bulk.text);
    assert.deepEqual(bulk.body.unmodifiedServices, []);
    assert.deepEqual(bulk.body.workloads.staticWorkloadList, []);
    const workload = bulk.body.workloads.dynamicWorkloadList.find((w) => w.uuid === taskId);
    assert.ok(workload, bulk.text);
    // Exactly msd.rdl's DynamicWorkload fields (certIssueTime is its one optional field).
    assert.deepEqual(Object.keys(workload).sort(), ['certExpiryTime', 'certIssueTime', 'domainName', 'hostname', 'ipAddresses', 'provider', 'serviceName', 'updateTime', 'uuid']);
    assert.equal(workload.domainName, 'sports');
    assert.equal(workload.serviceName, 'api');
    assert.equal(workload.provider, PROVIDER);
    assert.equal(workload.certExpiryTime, mine.expires);
    assert.ok(workload.ipAddresses.length === 1 && typeof workload.hostname === 'string' && !Number.isNaN(Date.parse(workload.updateTime)), bulk.text);
    const byService = await msd('GET', '/domain/sports/service/api/workloads');
    assert.equal(byService.status, 200, byService.text);
    assert.ok((byService.body as unknown as { dynamicWorkloadList: { uuid: string }[] }).dynamicWorkloadList.some((w) => w.uuid === taskId), byService.text);
    assert.equal((await msd('GET', '/domain/sports/service/nope/workloads')).status, 404);
    assert.equal((await msd('POST', '/workloads', { domainServices: [] }, '')).status, 401, 'no credentials, no workloads');
    assert.equal((await msd('POST', '/workloads', { nope: 1 })).status, 400, 'a body without domainServices is refused');

    const bundle = await ztsCall<{ name: string; certs: string }>(t.server.ztsUrl, t.ca, 'GET', '/cacerts/athenz', undefined);
    assert.deepEqual(bundle.body, { name: 'athenz', certs: t.ca });
    const other = await ztsCall<{ code: number; message: string }>(t.server.ztsUrl, t.ca, 'GET', '/cacerts/system', undefined);
    assert.equal(other.status, 404, other.text);
    assert.equal(other.body.message, 'getCertificateAuthorityBundle: No such bundle: system (available: athenz)');
  });

  test('EKS pod (Pod Identity and IRSA): register with the pod name, 7 days, refresh', async () => {
    for (const mode of ['pod-identity', 'irsa'] as const) {
      if (mode === 'irsa') {
        const admin = sim.createAccessKey(ACCOUNT, { userName: 'admin' });
        const cluster = sim.eksCluster({ account: ACCOUNT, cluster: 'prod' });
        const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: admin });
        const { webIdentityTrustPolicy } = await import('@tessera/aws-sim/policy-templates');
        await iam.send(new CreateRoleCommand({ RoleName: 'sports.irsa', AssumeRolePolicyDocument: webIdentityTrustPolicy(cluster.oidcProviderArn) }));
        iam.destroy();
      }
      const pod = await sim.launchEksPod({ mode, role: mode === 'irsa' ? 'sports.irsa' : 'sports.pod', account: ACCOUNT, cluster: 'prod', namespace: 'default', podName: `api-${mode}-7d9f` });
      const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
      const base = await withEnv(pod.env, () => fromNodeProviderChain()());
      if (mode === 'irsa') {
        // Let the IRSA role assume sports.api too (the trust must name it).
        const admin = sim.createAccessKey(ACCOUNT, { userName: 'admin' });
        const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: admin });
        const { UpdateAssumeRolePolicyCommand } = await import('@aws-sdk/client-iam');
        const arn = (n: string) => `arn:aws:iam::${ACCOUNT}:role/${n}`;
        await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'sports.api', PolicyDocument: awsTrustPolicy([arn('sports.api-service'), arn('sports.pod'), arn('sports.vm'), arn('sports.irsa')]) }));
        iam.destroy();
      }
      const creds = await assumeRole(sim.url, 'us-west-2', base, `arn:aws:iam::${ACCOUNT}:role/sports.api`, 'sports.api');
      const { res, keyPem } = await register(creds, pod.podName);
      assert.equal(res.status, 201, `${mode}: ${res.text}`);
      checkCert(res.body.x509Certificate, 7, pod.podName);
      const r2 = await refresh(creds, pod.podName, { cert: res.body.x509Certificate, key: keyPem });
      assert.equal(r2.res.status, 200, `${mode}: ${r2.res.text}`);
    }
  });

  test('EC2 instance: identity document and signature, 30 days', async () => {
    const vm = await sim.launchEc2Instance({ role: 'sports.vm', account: ACCOUNT, region: 'us-west-2' });
    const base = await withEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT: vm.imdsUrl, AWS_EC2_METADATA_DISABLED: 'false' }, () => fromInstanceMetadata()());
    const creds = await assumeRole(sim.url, 'us-west-2', base, `arn:aws:iam::${ACCOUNT}:role/sports.api`, 'sports.api');
    const doc = { document: vm.document, signature: vm.pkcs7 };
    const { res, keyPem } = await register(creds, vm.instanceId, { attestationExtra: doc });
    assert.equal(res.status, 201, res.text);
    checkCert(res.body.x509Certificate, 30, vm.instanceId);

    const { csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId: vm.instanceId });
    const r2 = await ztsCall(t.server.ztsUrl, t.ca, 'POST', `/instance/${PROVIDER}/sports/api/${vm.instanceId}`, {
      csr, attestationData: attestation('sports.api', creds, doc),
    }, { cert: res.body.x509Certificate, key: keyPem });
    assert.equal(r2.status, 200, r2.text);

    // A tampered document fails its signature; another instance's id does not match.
    const tampered = await register(creds, vm.instanceId, { attestationExtra: { document: vm.document.replace(ACCOUNT, OTHER), signature: vm.pkcs7 } });
    assert.equal(tampered.res.status, 403);
    assert.match(tampered.res.body.message, /signature does not verify/);
    const wrongId = await register(creds, 'i-0000000000000000', { attestationExtra: doc });
    assert.equal(wrongId.res.status, 403);
    assert.match(wrongId.res.body.message, /mismatch between instance-id values/);
  });
});

/** Certificates the CA key has signed, whether or not they reached the caller. */
const caSignatures = () => ztsMetric(t, 'tessera_ca_signatures_total{what="certificate"}');

test('the instance list shows the host name the agent sent and the platform its User-Agent names; a host name that is not a DomainName is a 400, before anything is signed', async () => {
  const { creds, taskId } = await fargateCreds();
  const signed = await caSignatures();
  const bad = await register(creds, taskId, { body: { hostname: 'web 01;rm -rf' } });
  assert.equal(bad.res.status, 400, bad.res.text);
  assert.match(bad.res.body.message, /^hostname "web 01;rm -rf" is not valid: dot-separated parts/);
  assert.equal(await caSignatures(), signed, 'a refused register had a certificate signed');
  // siad -cmd diagnose's check-only register runs the same checks.
  const { csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId: taskId });
  const checked = await httpsJson<{ message: string }>({
    method: 'POST', url: `${t.server.ztsUrl}/instance`, ca: t.ca, headers: { 'tessera-check-only': 'true' },
    body: { provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds), hostname: 'web 01' },
  });
  assert.equal(checked.status, 400, checked.text);
  assert.match(checked.body.message, /^hostname "web 01" is not valid/);
  const { res } = await register(creds, taskId, { body: { hostname: 'IP-10-0-12-34.us-west-2.compute.internal' } });
  assert.equal(res.status, 201, res.text);
  const listed = await t.admin.call<{ instances: { instanceId: string; platform?: string; hostname?: string }[] }>('GET', '/domain/sports/service/api/instances');
  const mine = listed.body.instances.find((i) => i.instanceId === taskId);
  // ztsCall sends "SIA-AWS test", as Athenz's AWS agents do.
  assert.deepEqual({ platform: mine?.platform, hostname: mine?.hostname }, { platform: 'AWS', hostname: 'ip-10-0-12-34.us-west-2.compute.internal' });
});

describe('refusals', () => {
  test('provider not allowed: names the Providers → Allow step and the zms-cli command', async () => {
    const { creds, taskId } = await fargateCreds();
    const { res } = await register(creds, taskId, { service: 'noprov' });
    assert.equal(res.status, 403);
    assert.match(res.body.message, /not authorized to launch sports\.noprov instances/);
    assert.match(res.body.message, /Providers and click Allow/);
    assert.match(res.body.message, /zms-cli -d sports set-domain-template aws_instance_launch_provider service=noprov/);
  });

  test('service not registered, unknown domain, unknown provider', async () => {
    const { creds, taskId } = await fargateCreds();
    const csr = (await serviceCsr({ domain: 'sports', service: 'ghost', provider: PROVIDER, instanceId: taskId })).csr;
    const body = { provider: PROVIDER, domain: 'sports', service: 'ghost', csr, attestationData: attestation('sports.ghost', creds) };
    const ghost = await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/instance', body);
    assert.equal(ghost.status, 400);
    assert.match(ghost.body.message, /Service not registered in domain: sports\.ghost.*add-service ghost/);
    assert.equal((await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/instance', { ...body, domain: 'nowhere' })).status, 404);
    const unknown = await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/instance', { ...body, service: 'api', provider: 'athenz.aws.mars-1' });
    assert.equal(unknown.status, 403);
    assert.match(unknown.body.message, /not a registered system provider/);
  });

  test('wrong account: names the registered accounts and the ARN STS reported', async () => {
    const other = sim.createAccessKey(OTHER, { userName: 'admin' });
    const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: other });
    await iam.send(new CreateRoleCommand({ RoleName: 'sports.api-service', AssumeRolePolicyDocument: serviceTrustPolicy('ecs-tasks.amazonaws.com') }));
    await iam.send(new CreateRoleCommand({ RoleName: 'sports.api', AssumeRolePolicyDocument: awsTrustPolicy(`arn:aws:iam::${OTHER}:role/sports.api-service`) }));
    iam.destroy();
    const { creds, taskId } = await fargateCreds('sports.api-service', OTHER);
    const { res } = await register(creds, taskId);
    assert.equal(res.status, 403);
    assert.match(res.body.message, new RegExp(`STS reports arn:aws:sts::${OTHER}:assumed-role/sports\\.api/`));
    assert.match(res.body.message, new RegExp(`registered account of the domain \\(${ACCOUNT}\\)`));
  });

  test('role not <domain>.<service>, or credentials of a role that did not assume it', async () => {
    const { creds, taskId } = await fargateCreds();
    const mismatch = await register(creds, taskId, { role: 'sports.other' });
    assert.equal(mismatch.res.status, 403);
    assert.match(mismatch.res.body.message, /Service name mismatch/);
    // The task role's own credentials (AssumeRole skipped): STS reports sports.api-service.
    const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT });
    const taskCreds = await withEnv(task.env, () => fromContainerMetadata()());
    const notAssumed = await register(taskCreds, task.taskId);
    assert.equal(notAssumed.res.status, 403);
    assert.match(notAssumed.res.body.message, /assumed-role\/sports\.api-service\//);
  });

  test('tampered or expired credentials are rejected by STS', async () => {
    const { creds, taskId } = await fargateCreds();
    const tampered = await register({ ...creds, secretAccessKey: `${creds.secretAccessKey.slice(0, -2)}xx` }, taskId);
    assert.equal(tampered.res.status, 403);
    assert.match(tampered.res.body.message, /STS rejected the presented credentials/);
    offset += 2 * 3_600_000; // past the 1-hour session lifetime, on the simulator's clock
    try {
      const expired = await register(creds, taskId);
      assert.equal(expired.res.status, 403);
      assert.match(expired.res.body.message, /STS rejected the presented credentials/);
    } finally {
      offset = 0;
    }
  });

  test('CSR with a foreign CN or SAN', async () => {
    const { creds, taskId } = await fargateCreds();
    const attest = attestation('sports.api', creds);
    const send = async (opts: { commonName?: string; dnsNames?: string[] }) => {
      const { csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId: taskId, ...opts });
      return ztsCall(t.server.ztsUrl, t.ca, 'POST', '/instance', { provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attest });
    };
    const cn = await send({ commonName: 'sports.web' });
    assert.equal(cn.status, 400);
    assert.match(cn.body.message, /Unable to validate CSR common name/);
    const outside = await send({ dnsNames: ['api.sports.aws.athenz.cloud', 'www.example.com'] });
    assert.equal(outside.status, 400);
    assert.match(outside.body.message, /www\.example\.com does not end with provider\/service configured suffix/);
    const otherService = await send({ dnsNames: ['web.sports.aws.athenz.cloud'] });
    assert.equal(otherService.status, 403);
    assert.match(otherService.body.message, /is not a name of sports\.api/);
  });

  test('a replayed (old) certificate revokes the instance; refresh by another principal is refused', async () => {
    const { creds, taskId } = await fargateCreds();
    const a = await register(creds, taskId);
    const certA = { cert: a.res.body.x509Certificate, key: a.keyPem };
    const b = await refresh(creds, taskId, certA);
    assert.equal(b.res.status, 200);
    const certB = { cert: b.res.body.x509Certificate, key: b.keyPem };
    const c = await refresh(creds, taskId, certB);
    assert.equal(c.res.status, 200);
    const replay = await refresh(creds, taskId, certA);
    assert.equal(replay.res.status, 403);
    assert.match(replay.res.body.message, /Certificate revoked/);
    const legit = await refresh(creds, taskId, { cert: c.res.body.x509Certificate, key: c.keyPem });
    assert.equal(legit.res.status, 403, 'the instance stays revoked until it registers again');

    const webTask = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT });
    const webBase = await withEnv(webTask.env, () => fromContainerMetadata()());
    const webAssumed = await assumeRole(sim.url, 'us-west-2', webBase, `arn:aws:iam::${ACCOUNT}:role/sports.web`, 'sports.web');
    const webReg = await register(webAssumed, webTask.taskId, { service: 'web' });
    assert.equal(webReg.res.status, 201, webReg.res.text);
    const other = await refresh(creds, taskId, { cert: webReg.res.body.x509Certificate, key: webReg.keyPem });
    assert.equal(other.res.status, 400);
    assert.match(other.res.body.message, /Principal mismatch: sports\.api vs\. sports\.web/);
    const noCert = await refresh(creds, taskId, undefined as never);
    assert.equal(noCert.res.status, 401);
  });

  test('X509-SVID (POST /svid) and JWT-SVID (POST /svid/jwt): the caller\'s SPIFFE ID as the only SAN, whatever the CSR asks; no client certificate, a role certificate, a bad CSR refused', async () => {
    const { creds, taskId } = await fargateCreds();
    const a = await register(creds, taskId);
    const mtls = { cert: a.res.body.x509Certificate, key: a.keyPem };
    // The CSR's names are ignored: only its key is certified.
    const csr = await createCsr({ keyPem: a.keyPem, subject: { commonName: 'sports.web' }, uris: ['spiffe://sports/sa/web'], dnsNames: ['web.example.com'] });
    const r = await ztsCall<{ x509Certificate: string; spiffeId: string }>(t.server.ztsUrl, t.ca, 'POST', '/svid', { csr }, mtls);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.spiffeId, 'spiffe://sports/sa/api');
    const info = parseCertificate(r.body.x509Certificate);
    assert.deepEqual(info.uris, ['spiffe://sports/sa/api']);
    assert.deepEqual(info.dnsNames, []);
    assert.equal(info.commonName, 'sports.api');
    assert.ok(keyMatchesCertificate(a.keyPem, r.body.x509Certificate));
    assert.ok(info.notAfter <= parseCertificate(mtls.cert).notAfter, 'not past the service certificate');
    const text = openssl(['x509', '-in', 's.pem', '-noout', '-text'], { 's.pem': r.body.x509Certificate });
    assert.match(text, /CA:FALSE/);
    assert.match(text, /Digital Signature/);
    assert.match(openssl(['verify', '-CAfile', 'ca.pem', 's.pem'], { 'ca.pem': t.ca, 's.pem': r.body.x509Certificate }), /OK/);

    assert.equal((await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/svid', { csr })).status, 401, 'no client certificate');
    assert.equal((await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/svid', { csr: 'garbage' }, mtls)).status, 400);
    assert.equal((await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/svid', {}, mtls)).status, 400);
    const roleCsr = await createCsr({ keyPem: a.keyPem, subject: { commonName: 'sports:role.readers' }, uris: ['spiffe://sports/ra/readers', 'athenz://principal/sports.api'] });
    const rc = await ztsCall<{ x509Certificate: string }>(t.server.ztsUrl, t.ca, 'POST', '/rolecert', { csr: roleCsr, expiryTime: 0 }, mtls);
    assert.equal(rc.status, 200, rc.text);
    const byRole = await ztsCall<{ message: string }>(t.server.ztsUrl, t.ca, 'POST', '/svid', { csr }, { cert: rc.body.x509Certificate, key: a.keyPem });
    assert.equal(byRole.status, 403);
    assert.match(byRole.body.message, /use the service certificate/);

    // JWT-SVIDs: sub the caller's SPIFFE ID, aud as asked, five minutes, ZTS's token key.
    const jwt = await ztsCall<{ token: string; spiffeId: string }>(t.server.ztsUrl, t.ca, 'POST', '/svid/jwt', { audience: ['sports-web'] }, mtls);
    assert.equal(jwt.status, 200, jwt.text);
    const claims = JSON.parse(Buffer.from(jwt.body.token.split('.')[1], 'base64url').toString()) as { sub: string; aud: string[]; iat: number; exp: number };
    assert.equal(claims.sub, 'spiffe://sports/sa/api');
    assert.deepEqual(claims.aud, ['sports-web']);
    assert.equal(claims.exp - claims.iat, 300);
    assert.equal((await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/svid/jwt', { audience: [] }, mtls)).status, 400);
    assert.equal((await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/svid/jwt', { audience: ['x'] })).status, 401);
  });

  test('role certificate for a role the service is not in; garbage bodies', async () => {
    const { creds, taskId } = await fargateCreds();
    const a = await register(creds, taskId);
    const mtls = { cert: a.res.body.x509Certificate, key: a.keyPem };
    const csr = await createCsr({ keyPem: generateKeyPair('ec').privateKeyPem, subject: { commonName: 'sports:role.admin' }, uris: ['athenz://principal/sports.api'] });
    const denied = await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/rolecert', { csr, expiryTime: 0 }, mtls);
    assert.equal(denied.status, 403);
    assert.match(denied.body.message, /not included in the requested role\(s\) in domain sports/);
    const impostor = await createCsr({ keyPem: generateKeyPair('ec').privateKeyPem, subject: { commonName: 'sports:role.readers' }, uris: ['athenz://principal/sports.web'] });
    assert.equal((await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/rolecert', { csr: impostor, expiryTime: 0 }, mtls)).status, 400);
    assert.equal((await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/rolecert', { csr, expiryTime: 0 })).status, 401);

    for (const body of ['{not json', [1], { provider: PROVIDER }, { provider: PROVIDER, domain: 'sports', service: 'api', attestationData: 'x', csr: 'garbage' }]) {
      const r = await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/instance', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${r.text}`);
      assert.equal(typeof r.body.message, 'string');
    }
  });

  test('delete: by a principal with delete on <domain>:instance.<id>; the record is gone after', async () => {
    const { creds, taskId } = await fargateCreds();
    const api = await register(creds, taskId);
    const webTask = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT });
    const webBase = await withEnv(webTask.env, () => fromContainerMetadata()());
    const webCreds = await assumeRole(sim.url, 'us-west-2', webBase, `arn:aws:iam::${ACCOUNT}:role/sports.web`, 'sports.web');
    const web = await register(webCreds, webTask.taskId, { service: 'web' });
    const asWeb = { cert: web.res.body.x509Certificate, key: web.keyPem };
    const path = `/instance/${PROVIDER}/sports/api/${taskId}`;
    const refused = await ztsCall(t.server.ztsUrl, t.ca, 'DELETE', path, undefined, asWeb);
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /needs delete on sports:instance\./);
    await t.admin.call('PUT', '/domain/sports/role/cleaners', { roleMembers: [{ memberName: 'sports.web' }] });
    await t.admin.call('PUT', '/domain/sports/policy/cleaners', { assertions: [{ role: 'cleaners', action: 'delete', resource: 'sports:instance.*' }] });
    assert.equal((await ztsCall(t.server.ztsUrl, t.ca, 'DELETE', path, undefined, asWeb)).status, 204);
    // The same through ZMS (what the UI's revoke does): the web instance goes too.
    assert.equal((await t.admin.call('DELETE', `/domain/sports/service/web/instance/${PROVIDER}/${webTask.taskId}`)).status, 204);
    assert.equal((await t.admin.call('DELETE', `/domain/sports/service/web/instance/${PROVIDER}/${webTask.taskId}`)).status, 404);
    const after = await refresh(creds, taskId, { cert: api.res.body.x509Certificate, key: api.keyPem });
    assert.equal(after.res.status, 403);
    assert.match(after.res.body.message, /Unable to find certificate record/);
  });

  test('STS unreachable: 504 within a bounded time', async () => {
    const down = await startTestServer('sqlite', { awsStsEndpoint: 'http://127.0.0.1:9' });
    try {
      await down.admin.call('POST', '/domain', { name: 'sports', adminUsers: ['user.admin'] });
      await down.admin.call('PUT', '/domain/sports/meta/system/account', { account: ACCOUNT });
      await down.admin.call('PUT', '/domain/sports/service/api', { name: 'sports.api' });
      await down.admin.call('PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] });
      const { creds, taskId } = await fargateCreds();
      const { csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId: taskId });
      const r = await ztsCall(down.server.ztsUrl, down.ca, 'POST', '/instance', { provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
      assert.equal(r.status, 504, r.text);
      assert.match(r.body.message, /STS did not answer in time or failed/);
    } finally {
      await down.close();
    }
  });
});
