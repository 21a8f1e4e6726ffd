/**
 * Attack checklist: every refusal of ZTS register, refresh and role
 * certificates that is not about names (cert-names.test.ts has those):
 * domain and launch checks, the AWS provider (attestation, STS, SAN DNS,
 * EC2 identity document incl. the boot window), the refresh rules (principal,
 * cross-instance, replaced certificates, retry grace) and the role checks.
 * Each test states the attack and asserts the status and the message.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseCertificate } from '@tessera/core/x509/certificate';
import { createCertificateAuthority } from '@tessera/core/x509/ca';
import { CLOCK_SKEW_MS } from '@tessera/core/x509/clock-skew';
import { clientCertificate } from '@tessera/server/test/support/client-certificate';
import { assumeRole, ztsCall } from '@tessera/server/test/support/workload';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { awsTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { httpsJson } from '@tessera/core/https-client';
import { attestation, ACCOUNT, OTHER_ACCOUNT, PROVIDER, SUFFIX, refused, startBench, type Bench, type CsrSpec, type Identity, type Reply } from './support.ts';

let b: Bench;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-attack-zts-'));
  b = await startBench(dir);
});
after(async () => {
  await b?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A register of sports.<service> with siad's CSR (changed by `csr`) and the attestation built from `att`. */
async function registerAs(o: { service?: string; csr?: CsrSpec; att?: (creds: Awaited<ReturnType<Bench['fargate']>>['creds'], taskId: string) => string; instanceId?: string; body?: Record<string, unknown> } = {}) {
  const service = o.service ?? 'api';
  const { creds, taskId } = await b.fargate(service === 'api' || service === 'web' ? service : 'api');
  const instanceId = o.instanceId ?? taskId;
  const { csr, keyPem } = await b.serviceCsr(instanceId, { service, ...o.csr });
  const attestationData = o.att ? o.att(creds, taskId) : attestation(`sports.${service}`, creds);
  const r = await b.register({ provider: PROVIDER, domain: 'sports', service, csr, attestationData, ...o.body });
  return { r, keyPem, creds };
}

describe('domain, service and launch checks', () => {
  test('register for a domain that does not exist → 404', async () => {
    const { r } = await registerAs({ body: { domain: 'nowhere' } });
    refused(r, 404, /Domain not found: nowhere/);
  });

  test('register for a service the domain does not have → 400 naming the fix', async () => {
    const { r } = await registerAs({ body: { service: 'ghost' } });
    refused(r, 400, /Service not registered in domain: sports\.ghost; add it in the UI .* zms-cli -d sports add-service ghost/);
    // A name ZMS would refuse gets no add-service hint that could not succeed.
    const short = await registerAs({ body: { service: 'ab' } });
    refused(short.r, 400, /Service not registered in domain: sports\.ab, and no service can have this name \(service name length too short: "ab" needs at least 3 characters\)/);
    assert.doesNotMatch(short.r.body.message, /add-service/);
  });

  test('register with a malformed provider, domain or service name → 400', async () => {
    refused((await registerAs({ body: { provider: 'bad provider' } })).r, 400, /Invalid provider "bad provider"/);
    refused((await registerAs({ body: { domain: '' } })).r, 400, /domain is required/);
    refused((await registerAs({ body: { domain: `${'a'.repeat(200)}.${'b'.repeat(200)}` } })).r, 400, /Invalid body field domain: must be at most 128 characters/);
  });

  test('register through a provider that is not a registered system provider → 403', async () => {
    const { r } = await registerAs({ body: { provider: 'athenz.aws.mars-1' } });
    refused(r, 403, /provider 'athenz\.aws\.mars-1' not authorized to launch instances in Athenz: it is not a registered system provider/);
  });

  test('register a service the domain has not allowed the provider to launch → 403 with the Allow step', async () => {
    assert.equal((await b.t.admin.call('PUT', '/domain/sports/service/noprov', { name: 'sports.noprov' })).status, 204);
    const { r } = await registerAs({ service: 'noprov' });
    refused(r, 403, /provider 'athenz\.aws\.us-west-2' not authorized to launch sports\.noprov instances\. To allow it: .*Providers and click Allow/);
  });

  test('register in a disabled domain → 404', async () => {
    assert.equal((await b.t.admin.call('POST', '/domain', { name: 'frozen', adminUsers: ['user.admin'] })).status, 200);
    assert.equal((await b.t.admin.call('PUT', '/domain/frozen/service/api', { name: 'frozen.api' })).status, 204);
    assert.equal((await b.t.admin.call('PUT', '/domain/frozen/meta/system/enabled', { enabled: false })).status, 204);
    const { r } = await registerAs({ body: { domain: 'frozen' } });
    refused(r, 404, /Domain not found: frozen \(the domain is disabled\)/);
  });

  test('register with a negative expiryTime → 400', async () => {
    refused((await registerAs({ body: { expiryTime: -5 } })).r, 400, /Invalid body field expiryTime: must be 0 or more/);
  });
});

describe('AWS provider: attestation and STS', () => {
  test('register without attestation data → 400', async () => {
    const { r } = await registerAs({ att: () => '' });
    refused(r, 400, /attestation data is required for x509 certificate request/);
  });

  test('register with attestation that is not JSON, or not an object → 403', async () => {
    refused((await registerAs({ att: () => '{not json' })).r, 403, /unable to verify attestation data: attestation data is not valid JSON client: SIA-AWS test clientIP: /);
    refused((await registerAs({ att: () => 'null' })).r, 403, /attestation data must be a JSON object/);
  });

  test('register a domain with no AWS account → 403 naming set-aws-account', async () => {
    assert.equal((await b.t.admin.call('POST', '/domain', { name: 'noacct', adminUsers: ['user.admin'] })).status, 200);
    assert.equal((await b.t.admin.call('PUT', '/domain/noacct/service/api', { name: 'noacct.api' })).status, 204);
    const tpl = await b.t.admin.call('PUT', '/domain/noacct/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] });
    assert.equal(tpl.status, 204, tpl.text);
    const { creds, taskId } = await b.fargate();
    const { csr } = await b.csr({
      subject: { commonName: 'noacct.api' }, dnsNames: [`api.noacct.${SUFFIX}`], uris: [`athenz://instanceid/${PROVIDER}/${taskId}`],
    });
    const r = await b.register({ provider: PROVIDER, domain: 'noacct', service: 'api', csr, attestationData: attestation('noacct.api', creds) });
    refused(r, 403, /Unable to extract AWS Account id: domain noacct has no AWS account registered; run: zms-cli -d noacct set-aws-account <aws-account-id>/);
  });

  test('attestation claiming another role than <domain>.<service> → 403', async () => {
    const { r } = await registerAs({ att: (c) => attestation('sports.web', c) });
    refused(r, 403, /Service name mismatch: attestation role sports\.web vs\. sports\.api: the workload must assume the IAM role sports\.api/);
  });

  test('attestation without the session token → 403', async () => {
    const { r } = await registerAs({ att: (c) => attestation('sports.api', { ...c, sessionToken: '' }) });
    refused(r, 403, /Unable to verify instance identity credentials: access, secret and token of the assumed role are required/);
  });

  test('credentials of sports.web presented as sports.api → 403 with the ARN STS reported', async () => {
    const { creds } = await b.fargate('web');
    const { r } = await registerAs({ att: () => attestation('sports.api', creds) });
    refused(r, 403, new RegExp(`STS reports arn:aws:sts::${ACCOUNT}:assumed-role/sports\\.web/.*expected arn:aws:sts::<account>:assumed-role/sports\\.api/`));
  });

  test('credentials an HTTP header cannot carry (CR LF, emoji, lone surrogate, NUL) → 400 naming the field, not an STS outage', async () => {
    const bad = { 'CR LF': 'AKIA\r\nX-Evil: 1', emoji: 'AKIA\u{1F600}ABCDEFGHIJKL', 'lone surrogate': 'AKIAABCDEFGH\ud800IJKL', NUL: 'AKIAABCDEFGH\u0000IJKL' };
    for (const [what, value] of Object.entries(bad)) {
      for (const [field, key] of [['access', 'accessKeyId'], ['token', 'sessionToken'], ['secret', 'secretAccessKey']] as const) {
        const { r } = await registerAs({ att: (c) => attestation('sports.api', { ...c, [key]: value }) });
        assert.equal(r.status, 400, `${what} in ${field}: ${r.status} ${r.text}`);
        refused(r, 400, new RegExp(`attestationData\\.${field} must be `));
      }
    }
    const long = await registerAs({ att: (c) => attestation('sports.api', { ...c, sessionToken: 'A'.repeat(17_000) }) });
    refused(long.r, 400, /attestationData\.token must be the session token as AWS issued it: .*at most 8192 characters/);
  });

  test('the right role in an account the domain does not list → 403 naming set-aws-account with both accounts', async () => {
    const root = b.sim.createAccessKey(OTHER_ACCOUNT, { userName: 'mismatch-admin' });
    const iam = new IAMClient({ region: 'us-east-1', endpoint: b.sim.url, credentials: root });
    await iam.send(new CreateRoleCommand({ RoleName: 'sports.api', AssumeRolePolicyDocument: awsTrustPolicy(`arn:aws:iam::${OTHER_ACCOUNT}:root`) }));
    iam.destroy();
    const creds = await assumeRole(b.sim.url, 'us-west-2', root, `arn:aws:iam::${OTHER_ACCOUNT}:role/sports.api`, 'mismatch');
    const { r } = await registerAs({ att: () => attestation('sports.api', creds) });
    refused(r, 403, new RegExp(`STS reports arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/sports\\.api/mismatch.*; if the workload's account ${OTHER_ACCOUNT} belongs to this domain, register it: zms-cli -d sports set-aws-account ${ACCOUNT},${OTHER_ACCOUNT}`));
  });

  test('tampered secret key → 403 from STS', async () => {
    const { r } = await registerAs({ att: (c) => attestation('sports.api', { ...c, secretAccessKey: `${c.secretAccessKey.slice(0, -2)}xx` }) });
    refused(r, 403, /AWS STS rejected the presented credentials/);
  });
});

describe('providers ZTS does not implement, and DNS suffixes nobody granted', () => {
  before(async () => {
    for (const [m, p, body] of [
      ['POST', '/domain', { name: 'acme', adminUsers: ['user.admin'] }],
      ['PUT', '/domain/acme/service/prov', { name: 'acme.prov' }],
      ['PUT', '/domain/sys.auth/role/providers/member/acme.prov', { memberName: 'acme.prov' }],
      ['PUT', '/domain/sys.auth/role/providers/member/acme.ghost', { memberName: 'acme.ghost' }],
      ['PUT', '/domain/sports/role/acme-launchers', { roleMembers: [{ memberName: 'acme.prov' }, { memberName: 'acme.ghost' }] }],
      ['PUT', '/domain/sports/policy/acme-launchers', { assertions: [{ role: 'acme-launchers', action: 'launch', resource: 'sports:service.api' }] }],
      ['PUT', '/domain/sys.auth/policy/deny-evil', { assertions: [{ role: 'providers', action: 'launch', resource: 'sys.auth:dns.evil.example', effect: 'DENY' }] }],
      ['PUT', '/domain/sys.auth/policy/update-other', { assertions: [{ role: 'providers', action: 'update', resource: 'sys.auth:dns.other.example' }] }],
    ] as [string, string, unknown][]) {
      const r = await b.t.admin.call(m, p, body);
      assert.ok(r.status < 300, `${m} ${p}: ${r.text}`);
    }
  });
  const viaProvider = async (provider: string) => {
    const { creds, taskId } = await b.fargate();
    const { csr } = await b.csr({ subject: { commonName: 'sports.api' }, uris: [`athenz://instanceid/${provider}/${taskId}`] });
    return b.register({ provider, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
  };

  test('a registered, allowed provider with no ZMS service → 400', async () => {
    refused(await viaProvider('acme.ghost'), 400, /unable to get instance for provider: acme\.ghost \(no such provider service in ZMS\)/);
  });
  test('a provider service without a provider endpoint → 400', async () => {
    refused(await viaProvider('acme.prov'), 400, /unable to get instance for provider: acme\.prov \(the service has no provider endpoint\)/);
  });
  test('a provider endpoint ZTS has no implementation for → 400', async () => {
    const set = await b.t.admin.call('PUT', '/domain/acme/service/prov/meta/system/providerendpoint', { providerEndpoint: 'https://prov.acme.example/' });
    assert.equal(set.status, 204, set.text);
    refused(await viaProvider('acme.prov'), 400, /unable to get instance for provider: acme\.prov \(unsupported provider endpoint https:\/\/prov\.acme\.example\/\)/);
  });
  test('a DENY launch on sys.auth:dns.evil.example grants no suffix: a DNS name under it → 400', async () => {
    const { r } = await registerAs({ csr: { dnsNames: ['api.sports.evil.example'] } });
    refused(r, 400, /api\.sports\.evil\.example does not end with provider\/service configured suffix or hostname \(provider athenz\.aws\.us-west-2 may use: aws\.athenz\.cloud\)/);
  });
  test('an ALLOW of another action than launch on sys.auth:dns.other.example grants no suffix either → 400', async () => {
    const { r } = await registerAs({ csr: { dnsNames: ['api.sports.other.example'] } });
    refused(r, 400, /api\.sports\.other\.example does not end with provider\/service configured suffix or hostname \(provider athenz\.aws\.us-west-2 may use: aws\.athenz\.cloud\)/);
  });
});

describe('clients as they come', () => {
  const bare = (body: Record<string, unknown>) =>
    httpsJson<Record<string, string>>({ method: 'POST', url: `${b.t.server.ztsUrl}/instance`, body, ca: b.t.ca }) as Promise<Reply>;

  test('a refusal for a client without a User-Agent says "client: unknown"', async () => {
    const { creds, taskId } = await b.fargate();
    const { csr } = await b.serviceCsr(taskId);
    refused(await bare({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.web', creds) }), 403,
      /Service name mismatch.* client: unknown clientIP: /);
  });
  test('a register without a User-Agent → 201', async () => {
    const { creds, taskId } = await b.fargate();
    const { csr } = await b.serviceCsr(taskId);
    const r = await bare({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
    assert.equal(r.status, 201, r.text);
  });
  test('attestation naming the short role "api" while holding sports.api credentials → 403 (STS must report that role)', async () => {
    const { r } = await registerAs({ att: (c) => attestation('api', c) });
    refused(r, 403, /STS reports arn:aws:sts::\d+:assumed-role\/sports\.api\/.*, expected arn:aws:sts::<account>:assumed-role\/api\//);
  });
});

describe('AWS provider: SAN DNS names', () => {
  test('no DNS name for the service → 403', async () => {
    refused((await registerAs({ csr: { dnsNames: [] } })).r, 403, /Unable to validate certificate request hostnames: the CSR has no DNS name for the service \(expected a name like api\.sports\.aws\.athenz\.cloud\)/);
  });
  test('another service’s DNS name → 403', async () => {
    refused((await registerAs({ csr: { dnsNames: [`web.sports.${SUFFIX}`] } })).r, 403, /web\.sports\.aws\.athenz\.cloud is not a name of sports\.api/);
  });
  test('another domain’s DNS name under the suffix → 403', async () => {
    refused((await registerAs({ csr: { dnsNames: [`api.weather.${SUFFIX}`] } })).r, 403, /api\.weather\.aws\.athenz\.cloud is not a name of sports\.api/);
  });
  test('only instance id DNS names → 403', async () => {
    const { creds, taskId } = await b.fargate();
    const { csr } = await b.serviceCsr(taskId, { dnsNames: [`${taskId}.instanceid.athenz.${SUFFIX}`] });
    const r = await b.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
    refused(r, 403, /Unable to validate certificate request hostnames: only instance id names/);
  });
  test('two instance id DNS names → 403', async () => {
    const { creds, taskId } = await b.fargate();
    const { csr } = await b.serviceCsr(taskId, { dnsNames: [`api.sports.${SUFFIX}`, `${taskId}.instanceid.athenz.${SUFFIX}`, `other.instanceid.athenz.${SUFFIX}`] });
    const r = await b.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
    refused(r, 403, /more than one instance id DNS name/);
  });
  test('an instance id DNS name under a suffix the provider was not configured with → 403', async () => {
    const { creds, taskId } = await b.fargate();
    const { csr } = await b.serviceCsr(taskId, { dnsNames: [`api.sports.${SUFFIX}`, `${taskId}.instanceid.athenz.evil.${SUFFIX}`] });
    const r = await b.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
    refused(r, 403, new RegExp(`${taskId}\\.instanceid\\.athenz\\.evil\\.aws\\.athenz\\.cloud does not end with a configured suffix`));
  });
});

describe('AWS provider: EC2 instance identity document', () => {
  const ec2 = async (o: { account?: string; region?: string; bootedHoursAgo?: number } = {}) => {
    b.setSimOffset(-(o.bootedHoursAgo ?? 0) * 3_600_000);
    try {
      return await b.sim.launchEc2Instance({ role: 'sports.vm', account: o.account ?? ACCOUNT, region: o.region ?? 'us-west-2' });
    } finally {
      b.setSimOffset(0);
    }
  };
  const withDoc = (doc: Record<string, string>, instanceId: string) =>
    registerAs({ instanceId, att: (c) => attestation('sports.api', c, doc) });

  test('the real document of this instance → 201 (30 days)', async () => {
    const vm = await ec2();
    const { r } = await withDoc({ document: vm.document, signature: vm.pkcs7 }, vm.instanceId);
    assert.equal(r.status, 201, r.text);
  });
  test('a document that is not JSON → 403', async () => {
    const vm = await ec2();
    refused((await withDoc({ document: 'not json', signature: vm.pkcs7 }, vm.instanceId)).r, 403, /Unable to validate AWS document: Unable to parse identity document/);
  });
  test('a document without its signature → 403', async () => {
    const vm = await ec2();
    refused((await withDoc({ document: vm.document }, vm.instanceId)).r, 403, /AWS instance document signature is empty/);
  });
  test('an edited document (another account written in) → 403 signature', async () => {
    const vm = await ec2();
    refused((await withDoc({ document: vm.document.replace(ACCOUNT, OTHER_ACCOUNT), signature: vm.pkcs7 }, vm.instanceId)).r, 403,
      /the document signature does not verify with the configured AWS certificates/);
  });
  test('a genuine document of an instance in another AWS account → 403', async () => {
    const vm = await ec2({ account: OTHER_ACCOUNT });
    refused((await withDoc({ document: vm.document, signature: vm.pkcs7 }, vm.instanceId)).r, 403,
      new RegExp(`mismatch between account values - instance document: ${OTHER_ACCOUNT}, domain accounts: ${ACCOUNT}; if the instance's account belongs to this domain, register it: zms-cli -d sports set-aws-account ${ACCOUNT},${OTHER_ACCOUNT}`));
  });
  test('a genuine document from another region than the provider’s → 403', async () => {
    const vm = await ec2({ region: 'us-east-1' });
    refused((await withDoc({ document: vm.document, signature: vm.pkcs7 }, vm.instanceId)).r, 403,
      /provider athenz\.aws\.us-west-2 does not end with expected suffix us-east-1/);
  });
  test('a genuine document of instance A with a CSR naming instance B → 403', async () => {
    const vm = await ec2();
    refused((await withDoc({ document: vm.document, signature: vm.pkcs7 }, 'i-0b0b0b0b0b0b0b0b0')).r, 403,
      new RegExp(`mismatch between instance-id values: request: i-0b0b0b0b0b0b0b0b0 vs\\. instance document: ${vm.instanceId}`));
  });
  test('a document of an instance that booted 2 hours ago (outside the 30-minute boot window) → 403', async () => {
    const vm = await ec2({ bootedHoursAgo: 2 });
    refused((await withDoc({ document: vm.document, signature: vm.pkcs7 }, vm.instanceId)).r, 403,
      /Instance boot time is not recent enough: .* \(register within 30 minutes of boot\)/);
  });
  test('a document missing its instance id → 403', async () => {
    const vm = await ec2();
    const doc = JSON.stringify({ ...JSON.parse(vm.document), instanceId: undefined });
    refused((await withDoc({ document: doc, signature: vm.pkcs7 }, vm.instanceId)).r, 403, /Unable to parse identity document/);
  });
  test('a signature that is not PKCS#7 → 403', async () => {
    const vm = await ec2();
    refused((await withDoc({ document: vm.document, signature: 'bm90IGEgc2lnbmF0dXJl' }, vm.instanceId)).r, 403, /the document signature does not verify/);
  });
  test('ECS on EC2 (athenz.aws-ecs): the document must be of the host named by taskid; no boot window', async () => {
    const tpl = await b.t.admin.call('PUT', '/domain/sports/template', { templateNames: ['aws_ecs_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] });
    assert.equal(tpl.status, 204, tpl.text);
    const ecs = 'athenz.aws-ecs.us-west-2';
    const vm = await ec2({ bootedHoursAgo: 2 });
    const send = async (taskid?: string) => {
      const { creds } = await b.fargate();
      const { csr } = await b.csr({
        subject: { commonName: 'sports.api', organizationalUnit: ecs },
        dnsNames: [`api.sports.${SUFFIX}`],
        uris: ['spiffe://sports/sa/api', `athenz://instanceid/${ecs}/task-0123`],
      });
      const doc = { document: vm.document, signature: vm.pkcs7, ...(taskid ? { taskid } : {}) };
      return b.register({ provider: ecs, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds, doc) });
    };
    const ok = await send(vm.instanceId);
    assert.equal(ok.status, 201, ok.text);
    refused(await send(), 403, new RegExp(`mismatch between instance-id values: request: task-0123 vs\\. instance document: ${vm.instanceId}`));
  });
  test('refresh presenting another instance’s document → 403 (the binding holds on refresh too)', async () => {
    const vm = await ec2();
    const other = await ec2();
    const reg = await withDoc({ document: vm.document, signature: vm.pkcs7 }, vm.instanceId);
    assert.equal(reg.r.status, 201, reg.r.text);
    const { csr } = await b.serviceCsr(vm.instanceId);
    const r = await b.refresh({ instanceId: vm.instanceId }, { csr, attestationData: attestation('sports.api', reg.creds, { document: other.document, signature: other.pkcs7 }) },
      { cert: reg.r.body.x509Certificate, key: reg.keyPem });
    refused(r, 403, new RegExp(`mismatch between instance-id values: request: ${vm.instanceId} vs\\. instance document: ${other.instanceId}`));
  });
});

describe('certificate lifetimes', () => {
  const hours = (pem: string) => {
    const c = parseCertificate(pem);
    return (c.notAfter.getTime() - c.notBefore.getTime() - CLOCK_SKEW_MS) / 3_600_000;
  };
  test('the request’s expiryTime shortens the certificate; the domain’s serviceCertExpiryMins caps it', async () => {
    const asked = await registerAs({ body: { expiryTime: 60 } });
    assert.equal(asked.r.status, 201, asked.r.text);
    assert.equal(hours(asked.r.body.x509Certificate), 1);
    assert.equal((await b.t.admin.call('PUT', '/domain/sports/meta', { serviceCertExpiryMins: 120 })).status, 204);
    try {
      const capped = await registerAs();
      assert.equal(capped.r.status, 201, capped.r.text);
      assert.equal(hours(capped.r.body.x509Certificate), 2);
    } finally {
      assert.equal((await b.t.admin.call('PUT', '/domain/sports/meta', { serviceCertExpiryMins: 0 })).status, 204);
    }
  });
});

describe('delete (instance-delete.ts)', () => {
  test('delete without a client certificate → 401; of an instance never registered → 404', async () => {
    const a = await b.registered();
    const zts = (mtls?: Identity) =>
      ztsCall(b.t.server.ztsUrl, b.t.ca, 'DELETE', `/instance/${PROVIDER}/sports/api/never-registered`, undefined, mtls) as Promise<Reply>;
    refused(await zts(), 401, /Authentication required: connect with a client certificate.* \(no client certificate was presented\)/);
    assert.equal((await b.t.admin.call('PUT', '/domain/sports/role/cleaners', { roleMembers: [{ memberName: 'sports.api' }] })).status, 204);
    assert.equal((await b.t.admin.call('PUT', '/domain/sports/policy/cleaners', { assertions: [{ role: 'cleaners', action: 'delete', resource: 'sports:instance.*' }] })).status, 204);
    refused(await zts(a.id), 404, /no instance never-registered of sports\.api registered by athenz\.aws\.us-west-2/);
  });
});

describe('refresh (instance-refresh.ts)', () => {
  const fresh = async (instanceId: string, change?: CsrSpec) => (await b.serviceCsr(instanceId, change)).csr;
  /** A client certificate naming the instance, signed by `ca`. */
  const instanceCert = (ca: { keyPem: string; certPem: string }, instanceId: string, commonName: string): Promise<Identity> =>
    clientCertificate(ca, { commonName, uris: [`athenz://instanceid/${PROVIDER}/${instanceId}`] });

  test('refresh without a client certificate → 401', async () => {
    const { instanceId, creds } = await b.registered();
    refused(await b.refresh({ instanceId }, { csr: await fresh(instanceId), attestationData: attestation('sports.api', creds) }), 401,
      /refresh needs the current service certificate: connect with it as the TLS client certificate \(no client certificate was presented\)/);
  });
  test('refresh with a look-alike certificate from another CA → 401 that says it did not verify', async () => {
    const { instanceId, creds } = await b.registered();
    const rogue = await createCertificateAuthority({ commonName: 'Rogue', alg: 'ec', validityDays: 1, now: new Date() });
    refused(await b.refresh({ instanceId }, { csr: await fresh(instanceId), attestationData: attestation('sports.api', creds) }, await instanceCert(rogue, instanceId, 'sports.api')), 401,
      /refresh needs the current service certificate: .*\(the client certificate did not verify against this server's CA: UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
  });
  test('refresh with a certificate of this CA that names no principal (no CN) → 401 that says so', async () => {
    const { instanceId, creds } = await b.registered();
    const ours = { keyPem: b.t.server.tls.caKeyPem, certPem: b.t.server.tls.caCertPem };
    refused(await b.refresh({ instanceId }, { csr: await fresh(instanceId), attestationData: attestation('sports.api', creds) }, await instanceCert(ours, instanceId, '')), 401,
      /\(the client certificate is not strict DER or has no common name\)/);
  });
  test('refresh without a CSR → 400', async () => {
    const { id, instanceId, creds } = await b.registered();
    refused(await b.refresh({ instanceId }, { attestationData: attestation('sports.api', creds) }, id), 400, /no csr provided/);
  });
  test('refresh of sports.api with sports.web’s certificate → 400 principal mismatch', async () => {
    const web = await b.registered('web');
    const { instanceId, creds } = await b.registered();
    refused(await b.refresh({ instanceId }, { csr: await fresh(instanceId), attestationData: attestation('sports.api', creds) }, web.id), 400,
      /Principal mismatch: sports\.api vs\. sports\.web/);
  });
  test('refresh of instance B with instance A’s certificate (cross-instance) → 400', async () => {
    const a = await b.registered();
    const other = await b.registered();
    refused(await b.refresh({ instanceId: other.instanceId }, { csr: await fresh(other.instanceId), attestationData: attestation('sports.api', a.creds) }, a.id), 400,
      /CSR validation failed - instance id mismatch: the CSR, the path and the current certificate must name the same instance/);
  });
  test('refresh whose CSR names another instance than the path → 400', async () => {
    const a = await b.registered();
    refused(await b.refresh({ instanceId: a.instanceId }, { csr: await fresh('someone-else'), attestationData: attestation('sports.api', a.creds) }, a.id), 400,
      /instance id mismatch/);
  });
  test('refresh without attestation → 403 from the provider', async () => {
    const a = await b.registered();
    refused(await b.refresh({ instanceId: a.instanceId }, { csr: await fresh(a.instanceId) }, a.id), 403,
      /attestation data is required: send a signed identity token or fresh STS credentials of the assumed role/);
  });
  test('refresh with a negative expiryTime → 400', async () => {
    const a = await b.registered();
    refused(await b.refresh({ instanceId: a.instanceId }, { csr: await fresh(a.instanceId), attestationData: attestation('sports.api', a.creds), expiryTime: -1 }, a.id), 400,
      /Invalid body field expiryTime: must be 0 or more/);
  });
  test('refresh of an instance an admin revoked (record deleted) → 403', async () => {
    const a = await b.registered();
    assert.equal((await b.t.admin.call('DELETE', `/domain/sports/service/api/instance/${PROVIDER}/${a.instanceId}`)).status, 204);
    refused(await b.refresh({ instanceId: a.instanceId }, { csr: await fresh(a.instanceId), attestationData: attestation('sports.api', a.creds) }, a.id), 403,
      /Unable to find certificate record: the instance is not registered \(or was deleted\); register it again/);
  });
  test('refresh with a replaced (copied) certificate → 403 revoked, and the instance stays revoked', async () => {
    const a = await b.registered();
    const body = async () => ({ csr: await fresh(a.instanceId), attestationData: attestation('sports.api', a.creds) });
    const next = await b.serviceCsr(a.instanceId);
    const second = await b.refresh({ instanceId: a.instanceId }, { csr: next.csr, attestationData: attestation('sports.api', a.creds) }, a.id);
    assert.equal(second.status, 200, second.text);
    refused(await b.refresh({ instanceId: a.instanceId }, await body(), a.id), 403,
      /Certificate revoked: this certificate is not the latest one issued to the instance; the instance must register again/);
    // The newest certificate cannot refresh either: presenting the copy revoked the instance.
    refused(await b.refresh({ instanceId: a.instanceId }, await body(), { cert: second.body.x509Certificate, key: next.keyPem }), 403, /Certificate revoked/);
  });
  test('refresh through a provider the domain has not allowed → 403', async () => {
    const a = await b.registered();
    refused(await b.refresh({ instanceId: a.instanceId, provider: 'athenz.aws.mars-1' }, { csr: await fresh(a.instanceId), attestationData: attestation('sports.api', a.creds) }, a.id), 403,
      /not a registered system provider/);
  });
});

describe('a ZTS whose clock runs ahead of its clients', () => {
  // Its certificates are backdated, so a client (or OpenSSL's coarse time()) that is a little behind accepts them at once.
  test('a certificate is accepted the moment it is issued: refresh and role certificate with it at once', async () => {
    const adir = mkdtempSync(join(tmpdir(), 'tessera-attack-ahead-'));
    const ahead = await startBench(adir, { now: () => new Date(Date.now() + 5_000) });
    try {
      const a = await ahead.registered();
      assert.ok(parseCertificate(a.id.cert).notBefore.getTime() <= Date.now(), 'valid by the client\'s clock');
      const { csr, keyPem } = await ahead.serviceCsr(a.instanceId);
      const r = await ahead.refresh({ instanceId: a.instanceId }, { csr, attestationData: attestation('sports.api', a.creds) }, a.id);
      assert.equal(r.status, 200, r.text);
      const role = await ahead.roleCert({ csr: (await ahead.csr({ subject: { commonName: 'sports:role.readers' }, uris: ['athenz://principal/sports.api'] })).csr },
        { cert: r.body.x509Certificate, key: keyPem });
      assert.equal(role.status, 200, role.text);
    } finally {
      await ahead.close();
      rmSync(adir, { recursive: true, force: true });
    }
  });
});

describe('refresh retry grace window (--refresh-retry-grace)', () => {
  let g: Bench;
  let gdir: string;
  before(async () => {
    gdir = mkdtempSync(join(tmpdir(), 'tessera-attack-grace-'));
    g = await startBench(gdir, { flags: { refreshRetryGrace: '2' }, documentCert: false });
  });
  after(async () => {
    await g?.close();
    rmSync(gdir, { recursive: true, force: true });
  });

  test('the previous certificate may retry within the window; an older one may not; after the window it is revoked', async () => {
    const a = await g.registered();
    const refreshWith = async (id: Identity) => {
      const { csr, keyPem } = await g.serviceCsr(a.instanceId);
      const r = await g.refresh({ instanceId: a.instanceId }, { csr, attestationData: attestation('sports.api', a.creds) }, id);
      return { r, id: { cert: r.body.x509Certificate, key: keyPem } };
    };
    const second = await refreshWith(a.id);
    assert.equal(second.r.status, 200, second.r.text);
    const retry = await refreshWith(a.id); // the client lost `second`'s answer and retries with its old certificate
    assert.equal(retry.r.status, 200, retry.r.text);
    refused((await refreshWith(second.id)).r, 403, /Certificate revoked/); // `second` is neither the current nor the previous one
  });

  test('after the window has passed, the previous certificate revokes the instance', async () => {
    const a = await g.registered();
    const { csr } = await g.serviceCsr(a.instanceId);
    const next = await g.refresh({ instanceId: a.instanceId }, { csr, attestationData: attestation('sports.api', a.creds) }, a.id);
    assert.equal(next.status, 200, next.text);
    await sleep(3_000);
    const late = await g.refresh({ instanceId: a.instanceId }, { csr, attestationData: attestation('sports.api', a.creds) }, a.id);
    refused(late, 403, /Certificate revoked/);
  });

  test('without the AWS document certificates configured, an EC2 document is refused → 403', async () => {
    const vm = await g.sim.launchEc2Instance({ role: 'sports.vm', account: ACCOUNT, region: 'us-west-2' });
    const { creds } = await g.fargate();
    const { csr } = await g.serviceCsr(vm.instanceId);
    const r = await g.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds, { document: vm.document, signature: vm.pkcs7 }) });
    refused(r, 403, /AWS Public key is not available \(configure the certificates that sign identity documents\)/);
  });
});

describe('role certificates: who may ask', () => {
  let api: { id: Identity; instanceId: string };
  const roleCsr = (cn = 'sports:role.readers', uris = ['athenz://principal/sports.api']) => b.csr({ subject: { commonName: cn }, uris });
  before(async () => {
    api = await b.registered();
  });

  test('role cert without a client certificate → 401', async () => {
    refused(await b.roleCert({ csr: (await roleCsr()).csr }), 401, /role certificates need a service certificate as the TLS client certificate \(no client certificate was presented\)/);
  });
  test('role cert using a role certificate as the client certificate → 403', async () => {
    const { csr, keyPem } = await roleCsr();
    const rc = await b.roleCert({ csr }, api.id);
    assert.equal(rc.status, 200, rc.text);
    refused(await b.roleCert({ csr: (await roleCsr()).csr }, { cert: rc.body.x509Certificate, key: keyPem }), 403, /Role Identity not authorized for request: use the service certificate/);
  });
  test('role cert without a CSR → 400', async () => {
    refused(await b.roleCert({}, api.id), 400, /csr is required: a PEM CSR with CN <domain>:role\.<role>/);
  });
  test('role cert with a negative expiryTime → 400', async () => {
    refused(await b.roleCert({ csr: (await roleCsr()).csr, expiryTime: -1 }, api.id), 400, /Invalid body field expiryTime: must be 0 or more/);
  });
  test('role cert CSR whose signature does not verify → 400', async () => {
    const { csr } = await roleCsr();
    const der = Buffer.from(csr.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5] ^= 0x01;
    const broken = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    refused(await b.roleCert({ csr: broken }, api.id), 400, /Unable to parse PKCS10 CSR: its signature does not verify with its own key/);
  });
  test('role cert whose CN is not a role → 400', async () => {
    refused(await b.roleCert({ csr: (await roleCsr('sports.api')).csr }, api.id), 400, /Role Certificate CN is not a valid role: sports\.api/);
  });
  test('role token path for one role with a CSR for another → 400', async () => {
    refused(await b.roleCert({ csr: (await roleCsr()).csr }, api.id, '/domain/sports/role/admin/token'), 400, /Role Certificate Request mismatch: sports:role\.readers\/sports:role\.admin/);
  });
  test('role cert in a domain that does not exist → 404', async () => {
    refused(await b.roleCert({ csr: (await roleCsr('nowhere:role.readers')).csr }, api.id), 404, /No such domain: nowhere/);
  });
  test('role cert for a role the service is not a member of → 403 naming add-member', async () => {
    refused(await b.roleCert({ csr: (await roleCsr('sports:role.admin')).csr }, api.id), 403,
      /principal sports\.api is not included in the requested role\(s\) in domain sports; a domain admin can run: zms-cli -d sports add-member admin sports\.api/);
  });
});
