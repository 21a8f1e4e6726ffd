/**
 * Attestation by signed tokens, through ZTS's HTTP API with aws-sim: EKS
 * projected service-account tokens and STS GetWebIdentityToken JWTs, checked
 * against cached issuer keys. Every refusal of the issue, then 100 pods
 * registered and refreshed with no STS call from ZTS (read from /metrics).
 *
 * The issuers' documents reach ZTS through a loopback relay the test can cut
 * (issuer unreachable); it also serves one issuer whose keys the test holds,
 * to sign tokens aws-sim would never issue (no aud, unknown kid).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { createHmac, createPublicKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair as joseKeyPair, SignJWT, type JWTPayload } from 'jose';
import { CreateOpenIDConnectProviderCommand, CreateRoleCommand, EnableOutboundWebIdentityFederationCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetWebIdentityTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { fromContainerMetadata } from '@aws-sdk/credential-providers';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy, podIdentityTrustPolicy, serviceTrustPolicy, webIdentityTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { httpsJson } from '@tessera/core/https-client';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { parseCertificate } from '@tessera/core/x509/certificate';
import { startTestServer, type TestServer } from './support/test-server.ts';
import { assumeRole, attestation, serviceCsr, withEnv, ztsCall, type AwsCreds } from './support/workload.ts';

const ACCOUNT = '123456789012';
const OTHER = '210987654321';
const ZTS_ACCOUNT = '999999999999';
const PROVIDER = 'athenz.aws.us-west-2';
const OWN_ISSUER = 'https://oidc.eks.us-west-2.amazonaws.com/id/TESTOWNEDISSUER0001';

let sim: AwsSim;
let t: TestServer;
let relay: Server;
let relayUrl = '';
let relayDown = false;
let simOffset = 0;
let ownKey: CryptoKey;
const ownKid = 'test-owned-key-1';
const EC_KEY = generateKeyPair('ec').privateKeyPem;

/** The pod spec asks for a projected token with ZTS as its audience (the default: ZTS's URL). */
const audience = () => t.server.ztsUrl;

async function pod(o: { cluster?: string; account?: string; serviceAccount?: string; namespace?: string; tokenAudience?: string } = {}) {
  return sim.launchEksPod({
    mode: 'pod-identity', role: 'sports.pod', account: o.account ?? ACCOUNT, cluster: o.cluster ?? 'blue',
    namespace: o.namespace ?? 'sports', serviceAccount: o.serviceAccount ?? 'sports.api', tokenAudience: o.tokenAudience ?? audience(),
  });
}

async function register(token: string, instanceId: string, o: { spiffeUri?: string; service?: string } = {}) {
  const service = o.service ?? 'api';
  const { csr } = await serviceCsr({ domain: 'sports', service, provider: PROVIDER, instanceId, keyPem: EC_KEY, spiffeUri: o.spiffeUri });
  return ztsCall<{ x509Certificate: string; message: string }>(t.server.ztsUrl, t.ca, 'POST', '/instance', {
    provider: PROVIDER, domain: 'sports', service, csr, attestationData: JSON.stringify({ role: `sports.${service}`, identityToken: token }),
  });
}

async function refused(res: Promise<{ status: number; body: { message: string } }>, pattern: RegExp): Promise<void> {
  const r = await res;
  assert.equal(r.status, 403, JSON.stringify(r.body));
  assert.match(r.body.message, pattern);
}

/** A token of the test-owned issuer (registered in ACCOUNT, served by the relay). */
function ownToken(claims: JWTPayload, header: { kid?: string; alg?: string; key?: CryptoKey } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, nbf: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: header.alg ?? 'ES256', kid: header.kid ?? ownKid })
    .sign(header.key ?? ownKey);
}

const podClaims = (instance: string): JWTPayload => ({
  iss: OWN_ISSUER,
  sub: 'system:serviceaccount:sports:sports.api',
  'kubernetes.io': { namespace: 'sports', pod: { name: instance, uid: `uid-${instance}` } },
});

async function awsCalls(): Promise<Record<string, number>> {
  const res = await httpsJson<string>({ url: t.server.ztsUrl.replace('/zts/v1', '/metrics'), ca: t.ca });
  const out: Record<string, number> = {};
  for (const m of res.text.matchAll(/^tessera_zts_aws_calls_total\{call="([^"]+)",reason="([^"]+)"\} (\d+)$/gm)) out[`${m[1]} ${m[2]}`] = Number(m[3]);
  return out;
}

before(async () => {
  sim = await startAwsSim({ clock: () => new Date(Date.now() + simOffset) });
  const own = await joseKeyPair('ES256');
  ownKey = own.privateKey as CryptoKey;
  const ownJwks = { keys: [{ ...(await exportJWK(own.publicKey)), kid: ownKid, alg: 'ES256', use: 'sig' }] };
  const ownPath = OWN_ISSUER.slice('https://'.length);
  relay = createServer((req, res) => {
    if (relayDown) return req.socket.destroy();
    const path = (req.url ?? '').replace(/^\//, '');
    if (path.startsWith(ownPath)) {
      const doc = path.endsWith('/keys') ? ownJwks : { issuer: OWN_ISSUER, jwks_uri: `${relayUrl}/${ownPath}/keys` };
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify(doc));
    }
    // Everything else is aws-sim's issuers; their jwks_uri points at aws-sim, so the keys come through here only via discovery.
    fetch(`${sim.url}/oidc/${path}`).then(async (r) => {
      const body = (await r.text()).replaceAll(`${sim.url}/oidc`, relayUrl);
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(body);
    }, () => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;

  // ZTS's own AWS identity (the SDK's default chain reads it): a user of its own account.
  const zts = sim.createAccessKey(ZTS_ACCOUNT, { userName: 'zts' });
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: zts.accessKeyId, AWS_SECRET_ACCESS_KEY: zts.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' });
  t = await startTestServer('sqlite', {
    awsStsEndpoint: sim.url, awsIamEndpoint: sim.url, awsOidcEndpoint: relayUrl, attestationMethods: 'aws=eks-token,aws-token,sts;aws-ecs=aws-token',
    awsOrgAllowList: 'o-exampleorg01',
  });
  for (const [m, p, b] of [
    ['POST', '/domain', { name: 'sports', adminUsers: ['user.admin'] }],
    ['PUT', '/domain/sports/meta/system/account', { account: ACCOUNT }],
    ['PUT', '/domain/sports/service/api', { name: 'sports.api' }],
    ['PUT', '/domain/sports/service/web', { name: 'sports.web' }],
    ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
    ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'web' }] }],
    ['PUT', '/domain/sports/template', { templateNames: ['aws_ecs_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
  ] as [string, string, unknown][]) {
    const r = await t.admin.call(m, p, b);
    assert.ok(r.status < 300, `${m} ${p}: ${r.text}`);
  }
  const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.createAccessKey(ACCOUNT, { userName: 'admin' }) });
  const role = (name: string, policy: string) => iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: policy }));
  // The domain account lets ZTS read which issuers it trusts (Athenz's oidc-issuers-reader).
  await role('oidc-issuers-reader', awsTrustPolicy(zts.arn));
  await role('sports.pod', podIdentityTrustPolicy());
  await role('sports.api-service', serviceTrustPolicy('ecs-tasks.amazonaws.com'));
  await role('sports.api', awsTrustPolicy([`arn:aws:iam::${ACCOUNT}:role/sports.api-service`, `arn:aws:iam::${ACCOUNT}:role/sports.pod`]));
  const blue = sim.eksCluster({ account: ACCOUNT, cluster: 'blue' });
  await role('sports.irsa', webIdentityTrustPolicy(blue.oidcProviderArn));
  sim.eksCluster({ account: ACCOUNT, cluster: 'green' });
  sim.eksCluster({ account: OTHER, cluster: 'red' });
  const otherIam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.rootCredentials(OTHER) });
  await otherIam.send(new CreateRoleCommand({ RoleName: 'sports.pod', AssumeRolePolicyDocument: podIdentityTrustPolicy() }));
  otherIam.destroy();
  await iam.send(new CreateOpenIDConnectProviderCommand({ Url: OWN_ISSUER, ClientIDList: ['sts.amazonaws.com'] }));
  iam.destroy();
});

after(async () => {
  await t?.close();
  await sim?.close();
  relay?.close();
});

describe('EKS projected service-account token', () => {
  test('registers and refreshes a pod; the certificate names only what ZTS verified', async () => {
    const p = await pod();
    const token = readFileSync(p.saTokenFile!, 'utf8');
    const res = await register(token, p.podName);
    assert.equal(res.status, 201, res.text);
    const cert = parseCertificate(res.body.x509Certificate);
    assert.equal(cert.commonName, 'sports.api');
    assert.deepEqual(cert.uris.sort(), [`athenz://instanceid/${PROVIDER}/${p.podName}`, 'spiffe://sports/sa/api']);
    // Refresh over mTLS with the (rewritten) token; the pod uid is accepted as the instance id too.
    sim.refreshPodTokens();
    const { csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId: p.podName, keyPem: EC_KEY });
    const r2 = await ztsCall<{ x509Certificate: string }>(t.server.ztsUrl, t.ca, 'POST', `/instance/${PROVIDER}/sports/api/${p.podName}`, {
      csr, attestationData: JSON.stringify({ role: 'sports.api', identityToken: readFileSync(p.saTokenFile!, 'utf8') }),
    }, { cert: res.body.x509Certificate, key: EC_KEY });
    assert.equal(r2.status, 200, r2.text);
    assert.equal((await register(token, p.podUid)).status, 201);
  });

  test('refuses tokens for another audience, and tokens meant for AWS', async () => {
    const p = await pod({ tokenAudience: 'https://zts.elsewhere.example/zts/v1' });
    await refused(register(readFileSync(p.saTokenFile!, 'utf8'), p.podName), /audience \["https:\/\/zts\.elsewhere\.example\/zts\/v1"\] is not ZTS's/);
    await refused(register(readFileSync(p.tokenFile, 'utf8'), p.podName), /audience pods\.eks\.amazonaws\.com is meant for AWS, not ZTS: request a token for audience https:/);
    const irsa = await sim.launchEksPod({ mode: 'irsa', role: 'sports.irsa', account: ACCOUNT, cluster: 'blue', namespace: 'sports', serviceAccount: 'sports.api' });
    await refused(register(readFileSync(irsa.tokenFile, 'utf8'), irsa.podName), /audience sts\.amazonaws\.com is meant for AWS/);
    const { aud: _, ...noAud } = { aud: 'x', ...podClaims('pod-noaud') };
    await refused(register(await ownToken(noAud), 'pod-noaud'), /audience null is not ZTS's/);
  });

  test('refuses expired and not-yet-valid tokens (a minute of skew allowed)', async () => {
    simOffset = -2 * 3_600_000; // the kubelet's token from two hours ago, expired an hour ago
    const old = await pod();
    simOffset = 3_600_000;
    const future = await pod();
    simOffset = 30_000; // within the skew
    const skewed = await pod();
    simOffset = 0;
    await refused(register(readFileSync(old.saTokenFile!, 'utf8'), old.podName), /token expired/);
    await refused(register(readFileSync(future.saTokenFile!, 'utf8'), future.podName), /not yet valid|iat/);
    assert.equal((await register(readFileSync(skewed.saTokenFile!, 'utf8'), skewed.podName)).status, 201);
  });

  test('refuses an unknown issuer, an issuer not registered in the account, another cluster\'s keys', async () => {
    await refused(register(await ownToken({ ...podClaims('p1'), iss: 'https://issuer.evil.example/id/1', aud: audience() }), 'p1'), /unknown token issuer "https:\/\/issuer\.evil\.example\/id\/1"/);
    const red = await pod({ account: OTHER, cluster: 'red' });
    await refused(register(readFileSync(red.saTokenFile!, 'utf8'), red.podName), new RegExp(`issuer ${red.cluster.issuer.replace(/\./g, '\\.')} is not an IAM OIDC provider of the domain's AWS account \\(${ACCOUNT}\\)`));
    // A token claiming the blue cluster but signed with another RSA key under blue's kid.
    const blue = await pod();
    const kid = JSON.parse(Buffer.from(readFileSync(blue.saTokenFile!, 'utf8').split('.')[0], 'base64url').toString()).kid as string;
    const { privateKey } = await joseKeyPair('RS256');
    const forged = await ownToken({ ...podClaims(blue.podName), iss: blue.cluster.issuer, aud: audience() }, { kid, alg: 'RS256', key: privateKey as CryptoKey });
    await refused(register(forged, blue.podName), /signature does not verify with the keys of issuer https:\/\/oidc\.eks/);
  });

  test('refuses alg none and HMAC signed with the issuer\'s public key', async () => {
    const p = await pod();
    const real = readFileSync(p.saTokenFile!, 'utf8');
    const [head, body] = real.split('.');
    const header = JSON.parse(Buffer.from(head, 'base64url').toString()) as { kid: string };
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: header.kid })).toString('base64url')}.${body}.`;
    await refused(register(none, p.podName), /token algorithm is not allowed/);
    const jwks = (await (await fetch(`${sim.url}/oidc/${p.cluster.issuer.slice(8)}/keys`)).json()) as { keys: { kid: string }[] };
    const pem = createPublicKey({ key: jwks.keys.find((k) => k.kid === header.kid)!, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const hsHead = Buffer.from(JSON.stringify({ alg: 'HS256', kid: header.kid })).toString('base64url');
    const hs = `${hsHead}.${body}.${createHmac('sha256', pem).update(`${hsHead}.${body}`).digest('base64url')}`;
    await refused(register(hs, p.podName), /token algorithm is not allowed/);
  });

  test('an unknown kid costs one refetch of the keys, then the token is refused; a rotated key is picked up', async () => {
    const before = await awsCalls();
    await refused(register(await ownToken({ ...podClaims('p2'), aud: audience() }, { kid: 'never-published' }), 'uid-p2'), /key id never-published \(ES256\) is not among the keys of issuer/);
    await refused(register(await ownToken({ ...podClaims('p3'), aud: audience() }, { kid: 'never-published-2' }), 'uid-p3'), /less than 30 s ago/);
    const afterCalls = await awsCalls();
    assert.equal((afterCalls['oidc:jwks unknown-kid'] ?? 0) - (before['oidc:jwks unknown-kid'] ?? 0), 1, JSON.stringify(afterCalls));
    // The test-owned issuer's real key still works.
    assert.equal((await register(await ownToken({ ...podClaims('p4'), aud: audience() }), 'p4')).status, 201);
    // The blue cluster rotates its key: the new kid is fetched once and accepted.
    const p = await pod();
    assert.equal((await register(readFileSync(p.saTokenFile!, 'utf8'), p.podName)).status, 201);
    sim.rotateClusterKeys({ account: ACCOUNT, cluster: 'blue' });
    assert.equal((await register(readFileSync(p.saTokenFile!, 'utf8'), p.podName)).status, 201);
  });

  test('issuer unreachable: cached keys keep working; with none cached, a 403 that names the issuer', async () => {
    const blue = await pod();
    const green = await pod({ cluster: 'green' });
    assert.equal((await register(readFileSync(blue.saTokenFile!, 'utf8'), blue.podName)).status, 201);
    relayDown = true;
    try {
      assert.equal((await register(readFileSync(blue.saTokenFile!, 'utf8'), blue.podName)).status, 201);
      await refused(register(readFileSync(green.saTokenFile!, 'utf8'), green.podName), new RegExp(`unable to get the signing keys of issuer ${green.cluster.issuer.replace(/\./g, '\\.')} \\(.*\\) and none are cached`));
    } finally {
      relayDown = false;
    }
  });

  test('refuses a service account that is not the service, a SPIFFE namespace mismatch, and a replay for another instance', async () => {
    const web = await pod({ serviceAccount: 'sports.web' });
    await refused(register(readFileSync(web.saTokenFile!, 'utf8'), web.podName), /service account sports\.web is not the service sports\.api/);
    const p = await pod();
    const token = readFileSync(p.saTokenFile!, 'utf8');
    await refused(register(token, p.podName, { spiffeUri: 'spiffe://sports.example/ns/other/sa/sports.api' }), /SPIFFE URI namespace other does not match the token's namespace sports/);
    assert.equal((await register(token, p.podName, { spiffeUri: 'spiffe://sports.example/ns/sports/sa/sports.api' })).status, 201);
    const other = await pod();
    await refused(register(token, other.podName), new RegExp(`instance id ${other.podName} is not the pod this token was issued to \\(${p.podName}, uid ${p.podUid}\\)`));
  });
});

describe('AWS web identity token (GetWebIdentityToken) and the STS fallback', () => {
  async function taskCreds(): Promise<{ creds: AwsCreds; taskId: string }> {
    const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, region: 'us-west-2', cluster: 'prod' });
    const base = await withEnv(task.env, () => fromContainerMetadata()());
    return { creds: await assumeRole(sim.url, 'us-west-2', base, `arn:aws:iam::${ACCOUNT}:role/sports.api`, 'sports.api'), taskId: task.taskId };
  }

  test('a Fargate task registers with the role\'s web identity token; STS stays the fallback and is counted', async () => {
    for (const [account, org] of [[ACCOUNT, 'o-exampleorg01'], [OTHER, 'o-otherorg0001']]) {
      const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.rootCredentials(account) });
      await iam.send(new EnableOutboundWebIdentityFederationCommand({}));
      iam.destroy();
      sim.setOrganization(account, org);
    }
    const { creds, taskId } = await taskCreds();
    const sts = new STSClient({ region: 'us-west-2', endpoint: sim.url, credentials: creds });
    const jwt = (await sts.send(new GetWebIdentityTokenCommand({ Audience: [audience()], SigningAlgorithm: 'ES384' }))).WebIdentityToken!;
    const wrong = (await sts.send(new GetWebIdentityTokenCommand({ Audience: ['https://other.example'], SigningAlgorithm: 'RS256' }))).WebIdentityToken!;
    sts.destroy();
    // A token of another organization (here also another account) is refused for its organization.
    const otherSts = new STSClient({ region: 'us-west-2', endpoint: sim.url, credentials: sim.createAccessKey(OTHER, { userName: 'someone' }) });
    const otherOrg = (await otherSts.send(new GetWebIdentityTokenCommand({ Audience: [audience()], SigningAlgorithm: 'RS256' }))).WebIdentityToken!;
    otherSts.destroy();
    await refused(register(otherOrg, taskId), /token organization o-otherorg0001 is not allowed \(allowed: o-exampleorg01\)/);
    const before = await awsCalls();
    assert.equal((await register(jwt, taskId)).status, 201);
    await refused(register(jwt, taskId, { service: 'web' }), /token subject arn:aws:iam::123456789012:role\/sports\.api is not the role sports\.web/);
    await refused(register(wrong, taskId), /is not ZTS's/);
    const mid = await awsCalls();
    assert.equal(mid['sts:GetCallerIdentity sts-attestation'] ?? 0, before['sts:GetCallerIdentity sts-attestation'] ?? 0);
    const { csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId: taskId, keyPem: EC_KEY });
    const viaSts = await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/instance', { provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
    assert.equal(viaSts.status, 201, viaSts.text);
    assert.equal((await awsCalls())['sts:GetCallerIdentity sts-attestation'], (mid['sts:GetCallerIdentity sts-attestation'] ?? 0) + 1);
    // --attestation-methods aws-ecs=aws-token: that provider refuses the STS fallback, and takes the token.
    const ECS = 'athenz.aws-ecs.us-west-2';
    const ecsCsr = (await serviceCsr({ domain: 'sports', service: 'api', provider: ECS, instanceId: taskId, keyPem: EC_KEY })).csr;
    const ecsSts = await ztsCall<{ message: string }>(t.server.ztsUrl, t.ca, 'POST', '/instance', { provider: ECS, domain: 'sports', service: 'api', csr: ecsCsr, attestationData: attestation('sports.api', creds) });
    assert.equal(ecsSts.status, 403, ecsSts.text);
    assert.match(ecsSts.body.message, /attestation method sts is not accepted by provider athenz\.aws-ecs\.us-west-2 \(accepted: aws-token\)/);
    const ecsToken = await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/instance', { provider: ECS, domain: 'sports', service: 'api', csr: ecsCsr, attestationData: JSON.stringify({ role: 'sports.api', identityToken: jwt }) });
    assert.equal(ecsToken.status, 201, ecsToken.text);
  });
});

test('100 pods register and refresh by token with no STS call from ZTS', async () => {
  const before = await awsCalls();
  const pods = await Promise.all(Array.from({ length: 100 }, () => pod()));
  const certs: string[] = [];
  for (let i = 0; i < pods.length; i += 20) {
    const batch = await Promise.all(pods.slice(i, i + 20).map((p) => register(readFileSync(p.saTokenFile!, 'utf8'), p.podName)));
    for (const r of batch) assert.equal(r.status, 201, r.text);
    certs.push(...batch.map((r) => r.body.x509Certificate));
  }
  for (let i = 0; i < pods.length; i += 20) {
    const batch = await Promise.all(pods.slice(i, i + 20).map(async (p, j) => {
      const { csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId: p.podName, keyPem: EC_KEY });
      return ztsCall(t.server.ztsUrl, t.ca, 'POST', `/instance/${PROVIDER}/sports/api/${p.podName}`, {
        csr, attestationData: JSON.stringify({ role: 'sports.api', identityToken: readFileSync(p.saTokenFile!, 'utf8') }),
      }, { cert: certs[i + j], key: EC_KEY });
    }));
    for (const r of batch) assert.equal(r.status, 200, r.text);
  }
  const afterCalls = await awsCalls();
  const delta = (k: string) => (afterCalls[k] ?? 0) - (before[k] ?? 0);
  assert.equal(delta('sts:GetCallerIdentity sts-attestation'), 0, JSON.stringify(afterCalls));
  assert.equal(delta('sts:AssumeRole oidc-provider-lookup') + delta('iam:ListOpenIDConnectProviders oidc-provider-lookup'), 0);
  assert.equal(delta('oidc:jwks issuer-first-use') + delta('oidc:jwks unknown-kid'), 0);
});
