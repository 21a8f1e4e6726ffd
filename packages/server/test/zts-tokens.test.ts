/**
 * ZTS for relying parties, checked by independent verifiers: jose verifies
 * access and ID tokens against the JWKS fetched over HTTPS; node:crypto checks
 * a role token's signature with the published key; openssl reads the CRL; a
 * real nginx with ssl_crl accepts a service certificate and refuses it once
 * it is revoked and the CRL refetched. The certificates come from a real
 * register (aws-sim, the AWS SDK) as siad would get them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { fromContainerMetadata } from '@aws-sdk/credential-providers';
import { createLocalJWKSet, importJWK, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy, serviceTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { httpsJson, type HttpsResponse } from '@tessera/core/https-client';
import { createCsr } from '@tessera/core/x509/csr';
import { freePort } from '@tessera/core/free-port';
import { ybase64DecodeBytes } from '@tessera/core/ybase64';
import { nginxBinary } from '@tessera/core/test/support/nginx';
import { startTestServer, type TestServer } from './support/test-server.ts';
import { assumeRole, attestation, serviceCsr, ztsCall, type AwsCreds } from './support/workload.ts';

const ACCOUNT = '123456789012';
const PROVIDER = 'athenz.aws.us-west-2';
const CRL_URL = 'https://zts.example.test:8443/zts/v1/crl';

let sim: AwsSim;
let t: TestServer;
let dir: string;

interface Identity {
  cert: string;
  key: string;
  instanceId: string;
  creds: AwsCreds;
}

/** A Fargate task of sports.api registers, as siad does. */
async function registerApi(): Promise<Identity> {
  const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, region: 'us-west-2', cluster: 'prod' });
  const saved = { ...process.env };
  Object.assign(process.env, task.env);
  let base;
  try {
    base = await fromContainerMetadata()();
  } finally {
    for (const k of Object.keys(task.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
  const creds = await assumeRole(sim.url, 'us-west-2', base, `arn:aws:iam::${ACCOUNT}:role/sports.api`, 'sports.api');
  const { keyPem, csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId: task.taskId });
  const res = await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/instance', {
    provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds),
  });
  assert.equal(res.status, 201, res.text);
  return { cert: res.body.x509Certificate, key: keyPem, instanceId: task.taskId, creds };
}

function tokenRequest(body: string, mtls?: Identity, contentType = 'application/x-www-form-urlencoded'): Promise<HttpsResponse<Record<string, string>>> {
  return httpsJson({
    method: 'POST',
    url: `${t.server.ztsUrl}/oauth2/token`,
    ca: t.ca,
    body,
    headers: { 'content-type': contentType },
    ...(mtls ? { cert: mtls.cert, key: mtls.key } : {}),
  });
}

/** What a relying party does: the JWKS from its HTTPS URL, then jose. */
async function jwks() {
  const res = await httpsJson<JSONWebKeySet>({ url: `${t.server.ztsUrl}/oauth2/keys?rfc=true`, ca: t.ca });
  assert.equal(res.status, 200, res.text);
  return createLocalJWKSet(res.body);
}

/** RFC 8705: the token's cnf x5t#S256 must be the SHA-256 of the certificate the caller presented. */
function boundTo(payload: JWTPayload, certPem: string): boolean {
  const thumbprint = createHash('sha256').update(new X509Certificate(certPem).raw).digest('base64url');
  return (payload.cnf as Record<string, string> | undefined)?.['x5t#S256'] === thumbprint;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-tokens-'));
  sim = await startAwsSim();
  t = await startTestServer('sqlite', { awsStsEndpoint: sim.url, crlUrl: CRL_URL });
  const yesterday = new Date(Date.now() - 86_400_000).toISOString();
  for (const [m, p, b] of [
    ['POST', '/domain', { name: 'sports', adminUsers: ['user.admin'] }],
    ['PUT', '/domain/sports/meta/system/account', { account: ACCOUNT }],
    ['PUT', '/domain/sports/service/api', { name: 'sports.api' }],
    ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
    ['PUT', '/domain/sports/role/readers', { roleMembers: [{ memberName: 'sports.api' }] }],
    ['PUT', '/domain/sports/role/writers', { roleMembers: [{ memberName: 'sports.other' }] }],
    ['PUT', '/domain/sports/role/lapsed', { roleMembers: [{ memberName: 'sports.api', expiration: yesterday }] }],
    // Delegation: weather:role.partners trusts sports, whose assume_role policy admits sports:role.readers members.
    ['POST', '/domain', { name: 'weather', adminUsers: ['user.admin'] }],
    ['PUT', '/domain/weather/role/partners', { trust: 'sports' }],
    ['PUT', '/domain/sports/policy/partners', { assertions: [{ role: 'sports:role.readers', resource: 'weather:role.partners', action: 'assume_role' }] }],
  ] as [string, string, unknown][]) {
    const r = await t.admin.call(m, p, b);
    assert.ok(r.status < 300, `${m} ${p}: ${r.text}`);
  }
  const admin = sim.createAccessKey(ACCOUNT, { userName: 'admin' });
  const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: admin });
  await iam.send(new CreateRoleCommand({ RoleName: 'sports.api-service', AssumeRolePolicyDocument: serviceTrustPolicy('ecs-tasks.amazonaws.com') }));
  await iam.send(new CreateRoleCommand({ RoleName: 'sports.api', AssumeRolePolicyDocument: awsTrustPolicy([`arn:aws:iam::${ACCOUNT}:role/sports.api-service`]) }));
  iam.destroy();
});

after(async () => {
  await t?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('access tokens', () => {
  test('issued over mTLS, verified by jose against the JWKS, bound to the client certificate', async () => {
    const api = await registerApi();
    const res = await tokenRequest('grant_type=client_credentials&scope=sports:role.readers&expires_in=600', api);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(res.body.expires_in, 600);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.body.scope, undefined, 'the requested role was granted: no scope in the answer, as Athenz');

    const { payload, protectedHeader } = await jwtVerify(res.body.access_token, await jwks(), {
      issuer: t.server.ztsUrl, audience: 'sports', typ: 'at+jwt', algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.kid, (await httpsJson<JSONWebKeySet>({ url: `${t.server.ztsUrl}/oauth2/keys?rfc=true`, ca: t.ca })).body.keys[0].kid);
    assert.equal(payload.sub, 'sports.api');
    assert.equal(payload.client_id, 'sports.api');
    assert.equal(payload.uid, 'sports.api');
    assert.deepEqual(payload.scp, ['readers']);
    assert.equal(payload.scope, 'readers');
    assert.equal(payload.ver, 1);
    assert.equal((payload.exp as number) - (payload.iat as number), 600);
    assert.ok(boundTo(payload, api.cert), 'cnf x5t#S256 is the hash of the certificate that asked');

    // Another instance's certificate is not the one the token is bound to.
    const other = await registerApi();
    assert.equal(boundTo(payload, other.cert), false, 'a relying party sees the token was issued to another certificate');
  });

  test('<domain>:domain returns every role the service is in (membership expiry respected) and says which', async () => {
    const api = await registerApi();
    const res = await tokenRequest('grant_type=client_credentials&scope=sports:domain', api);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.scope, 'sports:role.readers');
    assert.equal(res.body.expires_in, 7200, 'Athenz default: 2 hours');
    const { payload } = await jwtVerify(res.body.access_token, await jwks(), { audience: 'sports' });
    assert.deepEqual(payload.scp, ['readers'], 'lapsed (expired membership) and writers are not granted');

    // Several roles, one granted: the answer says what was granted.
    const some = await tokenRequest('grant_type=client_credentials&scope=sports:role.readers%20sports:role.writers', api);
    assert.equal(some.status, 200, some.text);
    assert.equal(some.body.scope, 'sports:role.readers');
  });

  test('a delegated (trust) role is granted through the trusted domain', async () => {
    const api = await registerApi();
    const res = await tokenRequest('grant_type=client_credentials&scope=weather:role.partners', api);
    assert.equal(res.status, 200, res.text);
    const { payload } = await jwtVerify(res.body.access_token, await jwks(), { audience: 'weather' });
    assert.deepEqual(payload.scp, ['partners']);
  });

  test('openid <domain>:service.<service> adds an ID token for that audience', async () => {
    const api = await registerApi();
    const res = await tokenRequest('grant_type=client_credentials&scope=openid%20sports:service.api%20sports:role.readers', api);
    assert.equal(res.status, 200, res.text);
    const { payload, protectedHeader } = await jwtVerify(res.body.id_token, await jwks(), { issuer: t.server.ztsUrl, audience: 'sports.api' });
    assert.equal(payload.sub, 'sports.api');
    assert.equal(protectedHeader.typ, undefined, 'Athenz ID tokens carry no typ');
  });

  test('a role the service is not in is refused by ZTS; an expired token is rejected by jose', async () => {
    const api = await registerApi();
    const refused = await tokenRequest('grant_type=client_credentials&scope=sports:role.writers', api);
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.error, 'invalid_scope');
    assert.equal(refused.body.code as unknown, 403);
    assert.match(refused.body.error_description, /principal sports\.api is not included in the requested role\(s\) writers in domain sports; a domain admin can run: zms-cli -d sports add-member writers sports\.api/);
    const lapsed = await tokenRequest('grant_type=client_credentials&scope=sports:role.lapsed', api);
    assert.equal(lapsed.status, 403, 'an expired membership grants nothing');
    const missing = await tokenRequest('grant_type=client_credentials&scope=sports:role.nosuch', api);
    assert.equal(missing.status, 403);
    assert.match(missing.body.message, /no such role in sports: nosuch/);

    const short = await tokenRequest('grant_type=client_credentials&scope=sports:role.readers&expires_in=1', api);
    assert.equal(short.status, 200, short.text);
    await sleep(2100);
    await assert.rejects(jwtVerify(short.body.access_token, await jwks()), (e: Error & { code?: string }) => e.code === 'ERR_JWT_EXPIRED');
  });

  test('bad requests get RFC 6749 errors that say what to fix', async () => {
    const api = await registerApi();
    const cases: [string, Identity | undefined, number, string, RegExp][] = [
      ['grant_type=password&scope=sports:domain', api, 400, 'unsupported_grant_type', /Invalid grant request: password; this ZTS issues tokens for grant_type=client_credentials/],
      ['scope=sports:domain', api, 400, 'invalid_request', /no grant type provided; send grant_type=client_credentials/],
      ['grant_type=client_credentials', api, 400, 'invalid_scope', /no scope provided; use <domain>:domain/],
      ['grant_type=client_credentials&scope=sports', api, 400, 'invalid_scope', /Invalid scope item "sports": use <domain>:domain, <domain>:role.<role>/],
      ['grant_type=client_credentials&scope=sports:role.readers%20weather:role.partners', api, 400, 'invalid_scope', /Multiple domains in scope \(sports, weather\)/],
      ['grant_type=client_credentials&scope=openid%20sports:role.readers', api, 400, 'invalid_scope', /No audience service name for openid scope: add sports:service.<service>/],
      ['grant_type=client_credentials&scope=sports:domain&expires_in=soon', api, 400, 'invalid_request', /Invalid expires_in "soon": give the lifetime in whole seconds/],
      ['grant_type=client_credentials&scope=nosuch:domain', api, 404, 'invalid_scope', /No such domain: nosuch/],
      ['grant_type=client_credentials&scope=sports:domain', undefined, 401, 'invalid_client', /connect with your service certificate as the TLS client certificate/],
      ['grant_type=client_credentials&scope=:domain', api, 400, 'invalid_scope', /Invalid scope item ":domain": "" is not a valid domain name/],
      ['grant_type=client_credentials&scope=sports:role.bad*role', api, 400, 'invalid_scope', /Invalid scope item "sports:role\.bad\*role": "bad\*role" is not a valid role name/],
      ['grant_type=client_credentials&scope=openid', api, 400, 'invalid_scope', /No domains in scope: use <domain>:domain/],
      ['grant_type=client_credentials&scope=sports:domain&proxy_for_principal=sports.web', api, 403, 'unauthorized_client', /Principal: sports\.api not authorized for proxy access token request/],
    ];
    for (const [body, who, status, error, message] of cases) {
      const res = await tokenRequest(body, who);
      assert.equal(res.status, status, `${body}: ${res.text}`);
      assert.equal(res.body.error, error, body);
      assert.match(res.body.error_description, message, body);
      assert.equal(res.body.message, res.body.error_description, 'Athenz clients read message');
    }
    const empty = await tokenRequest(' ', api);
    assert.equal(empty.status, 400, empty.text);
    assert.equal(empty.body.error, 'invalid_request');
    assert.match(empty.body.error_description, /^Empty request body: send grant_type=client_credentials&scope=<domain>:domain$/);
    const huge = await tokenRequest(`grant_type=client_credentials&scope=sports:domain&pad=${'a'.repeat(70_000)}`, api);
    assert.equal(huge.status, 413, huge.text.slice(0, 200));
    assert.equal(huge.body.error, 'invalid_request');
    assert.match(huge.body.error_description, /body is too large/i);
    const json = await tokenRequest('{"grant_type":"client_credentials"}', api, 'application/json');
    assert.equal(json.status, 400);
    assert.match(json.body.error_description, /application\/x-www-form-urlencoded/);
  });

  test('role_in_aud_claim=true names the one granted role in aud; without it aud is the domain', async () => {
    const api = await registerApi();
    const aud = async (body: string) => {
      const res = await tokenRequest(body, api);
      assert.equal(res.status, 200, res.text);
      const { payload } = await jwtVerify(res.body.access_token, await jwks());
      return payload.aud;
    };
    assert.equal(await aud('grant_type=client_credentials&scope=sports:role.readers&role_in_aud_claim=true'), 'sports:readers');
    assert.equal(await aud('grant_type=client_credentials&scope=sports:role.readers'), 'sports');
    assert.equal(await aud('grant_type=client_credentials&scope=weather:domain&role_in_aud_claim=false'), 'weather');
  });

  test('OpenID discovery names the issuer and the JWKS; keys come in Athenz\'s two forms', async () => {
    const conf = await httpsJson<Record<string, unknown>>({ url: `${t.server.ztsUrl}/.well-known/openid-configuration`, ca: t.ca });
    assert.equal(conf.status, 200);
    assert.equal(conf.body.issuer, t.server.ztsUrl);
    assert.equal(conf.body.jwks_uri, `${t.server.ztsUrl}/oauth2/keys?rfc=true`);
    assert.deepEqual(conf.body.id_token_signing_alg_values_supported, ['ES256']);
    const legacy = await httpsJson<JSONWebKeySet>({ url: `${t.server.ztsUrl}/oauth2/keys`, ca: t.ca });
    const rfc = await httpsJson<JSONWebKeySet>({ url: `${t.server.ztsUrl}/oauth2/keys?rfc=true`, ca: t.ca });
    assert.equal(legacy.body.keys[0].crv, 'prime256v1');
    assert.equal(rfc.body.keys[0].crv, 'P-256');
    assert.equal(legacy.body.keys[0].kid, rfc.body.keys[0].kid);
    assert.equal(Buffer.from(rfc.body.keys[0].x!, 'base64url').length, 32);
  });
});

describe('role tokens and service reads', () => {
  test('GET /domain/{d}/token: Athenz role token string whose signature verifies with the published key', async () => {
    const api = await registerApi();
    const res = await ztsCall<{ token: string; expiryTime: number }>(t.server.ztsUrl, t.ca, 'GET', '/domain/sports/token?role=readers', undefined, api);
    assert.equal(res.status, 200, res.text);
    const m = /^(v=Z1;d=sports;r=readers;p=sports\.api;h=[^;]+;a=[0-9a-f]{16};t=(\d+);e=(\d+);k=([^;]+);i=[^;]+);s=(.+)$/.exec(res.body.token);
    assert.ok(m, res.body.token);
    assert.equal(Number(m[3]), res.body.expiryTime);
    assert.equal(Number(m[3]) - Number(m[2]), 7200);
    const jwk = (await httpsJson<JSONWebKeySet>({ url: `${t.server.ztsUrl}/oauth2/keys?rfc=true`, ca: t.ca })).body.keys.find((k) => k.kid === m[4]);
    assert.ok(jwk, 'k= names a published key');
    const key = createPublicKey({ key: jwk as never, format: 'jwk' });
    assert.ok(verify('sha256', Buffer.from(m[1]), key, ybase64DecodeBytes(m[5])));
    assert.equal(verify('sha256', Buffer.from(m[1].replace('r=readers', 'r=admin')), key, ybase64DecodeBytes(m[5])), false);
    // jose agrees the key is an ES256 key: the same one signs access tokens.
    await importJWK(jwk, 'ES256');

    const refused = await ztsCall(t.server.ztsUrl, t.ca, 'GET', '/domain/sports/token?role=writers', undefined, api);
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /principal sports\.api is not included in the requested role\(s\) writers in domain sports/);
    const anonymous = await ztsCall(t.server.ztsUrl, t.ca, 'GET', '/domain/sports/token?role=readers', undefined);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.body.message, /connect with a client certificate issued by this ZTS, or send a ZMS user token/);
  });

  test('role tokens: every role without role=, the lifetime asked for, the domain cap; proxy, bad names and bad times refused', async () => {
    const api = await registerApi();
    // A domain of its own, so the cap does not change the other tests' tokens.
    for (const [m, p, b] of [
      ['POST', '/domain', { name: 'capped', adminUsers: ['user.admin'] }],
      ['PUT', '/domain/capped/role/readers', { roleMembers: [{ memberName: 'sports.api' }] }],
      ['PUT', '/domain/capped/meta', { tokenExpiryMins: 5 }],
      ['POST', '/domain', { name: 'nogrants', adminUsers: ['user.admin'] }],
    ] as [string, string, unknown][]) {
      const r = await t.admin.call(m, p, b);
      assert.ok(r.status < 300, `${m} ${p}: ${r.text}`);
    }
    const get = (path: string) => ztsCall<{ token: string; expiryTime: number; message: string }>(t.server.ztsUrl, t.ca, 'GET', path, undefined, api);
    const lifetime = async (path: string) => {
      const res = await get(path);
      assert.equal(res.status, 200, `${path}: ${res.text}`);
      const m = /;t=(\d+);e=(\d+);/.exec(res.body.token)!;
      return Number(m[2]) - Number(m[1]);
    };
    const all = await get('/domain/sports/token');
    assert.equal(all.status, 200, all.text);
    assert.match(all.body.token, /^v=Z1;d=sports;r=readers;c=1;p=sports\.api;/, 'every role the service is in (not the lapsed one), marked complete');
    assert.equal(await lifetime('/domain/sports/token?role=readers&minExpiryTime=9000'), 9000);
    assert.equal(await lifetime('/domain/sports/token?role=readers&minExpiryTime=9000&maxExpiryTime=600'), 600, 'the max wins over the min');
    assert.equal(await lifetime('/domain/sports/token?role=readers&minExpiryTime=60'), 7200, 'a min under the default keeps the default');
    assert.equal(await lifetime('/domain/capped/token?role=readers&maxExpiryTime=3600'), 300, "the domain's tokenExpiryMins caps it");

    const refusals: [string, number, string][] = [
      ['/domain/sports/token?role=readers&proxyForPrincipal=sports.web', 400, 'getRoleToken: Principal: sports.api not authorized for proxy role token request'],
      ['/domain/sports/token?role=readers,bad*role', 400, 'getRoleToken: invalid role name "bad*role" in role=readers,bad*role'],
      ['/domain/sports/token?role=readers&minExpiryTime=soon', 400, 'Invalid minExpiryTime "soon": give whole seconds'],
      ['/domain/sports/token?role=readers&maxExpiryTime=1.5', 400, 'Invalid maxExpiryTime "1.5": give whole seconds'],
      ['/domain/nogrants/token', 403, 'principal sports.api is not included in any role in domain nogrants'],
    ];
    for (const [path, status, message] of refusals) {
      const res = await get(path);
      assert.equal(res.status, status, `${path}: ${res.text}`);
      assert.equal(res.body.message, message, path);
    }
  });

  test('services and public keys from the snapshots; authentication required', async () => {
    const api = await registerApi();
    const pem = readFileSync(join(t.dataDir, 'ca.cert.pem'), 'utf8');
    const pub = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const put = await t.admin.call('PUT', '/domain/sports/service/web', { name: 'sports.web', publicKeys: [{ id: 'v0', key: Buffer.from(pub).toString('base64').replace(/\+/g, '.').replace(/\//g, '_').replace(/=/g, '-') }] });
    assert.ok(put.status < 300, put.text);
    let list: HttpsResponse<{ names: string[] }> | undefined;
    for (let i = 0; i < 50; i++) {
      list = await ztsCall<{ names: string[] }>(t.server.ztsUrl, t.ca, 'GET', '/domain/sports/service', undefined, api);
      if (list.body.names?.includes('web')) break;
      await sleep(100);
    }
    assert.deepEqual(list!.body.names.sort(), ['api', 'web']);
    const svc = await ztsCall<{ name: string }>(t.server.ztsUrl, t.ca, 'GET', '/domain/sports/service/web', undefined, api);
    assert.equal(svc.body.name, 'sports.web');
    const key = await ztsCall<{ id: string; key: string }>(t.server.ztsUrl, t.ca, 'GET', '/domain/sports/service/web/publickey/v0', undefined, api);
    assert.equal(key.status, 200, key.text);
    assert.equal(ybase64DecodeBytes(key.body.key).toString(), pub);
    const none = await ztsCall(t.server.ztsUrl, t.ca, 'GET', '/domain/sports/service/web/publickey/v9', undefined, api);
    assert.deepEqual([none.status, none.body.message], [404, 'Public Key not found']);
    const nosvc = await ztsCall(t.server.ztsUrl, t.ca, 'GET', '/domain/sports/service/nosuch', undefined, api);
    assert.deepEqual([nosvc.status, nosvc.body.message], [404, "Service not found: 'sports.nosuch'"]);
    for (const [path, status, message] of [
      ['/domain/nosuch/service', 404, "Domain not found: 'nosuch'"],
      ['/domain/sports_*/service', 400, 'Invalid domain name: sports_*'],
      ['/domain/sports/service/web.api', 400, 'Invalid service name: web.api'],
      ['/oauth2/keys?service=msd', 404, 'getJWKList: no keys for service msd (this server publishes the zts keys)'],
    ] as const) {
      const res = await ztsCall(t.server.ztsUrl, t.ca, 'GET', path, undefined, api);
      assert.deepEqual([res.status, res.body.message], [status, message], path);
    }
    const anonymous = await ztsCall(t.server.ztsUrl, t.ca, 'GET', '/domain/sports/service', undefined);
    assert.equal(anonymous.status, 401);
    const status = await ztsCall(t.server.ztsUrl, t.ca, 'GET', '/status', undefined);
    assert.deepEqual([status.status, status.body], [200, { code: 200, message: 'OK' }]);
  });
});

describe('CRL', () => {
  test('revoked certificates are listed (openssl), carry the distribution point, and cannot get tokens', async () => {
    const api = await registerApi();
    const serial = new X509Certificate(api.cert).serialNumber.toLowerCase();
    const cert = execFileSync('openssl', ['x509', '-noout', '-text'], { input: api.cert, encoding: 'utf8' });
    assert.match(cert, /X509v3 CRL Distribution Points:\s+Full Name:\s+URI:https:\/\/zts\.example\.test:8443\/zts\/v1\/crl/);

    const before = await crlText();
    assert.doesNotMatch(before, new RegExp(serial, 'i'));
    const del = await t.admin.call('DELETE', `/domain/sports/service/api/instance/${PROVIDER}/${api.instanceId}`);
    assert.equal(del.status, 204, del.text);

    const text = await crlText();
    assert.match(text, /Version 2/);
    assert.match(text, /X509v3 CRL Number/);
    assert.match(text, /X509v3 Authority Key Identifier/);
    assert.match(text, new RegExp(`Serial Number: 0*${serial}[\\s\\S]*?Privilege Withdrawn`, 'i'));
    const lastNext = /Last Update: (.+)\n\s+Next Update: (.+)/.exec(text)!;
    assert.ok(Date.parse(lastNext[2]) - Date.parse(lastNext[1]) <= 3_600_000, 'nextUpdate at most an hour ahead');
    execFileSync('openssl', ['crl', '-inform', 'DER', '-in', join(dir, 'crl.der'), '-CAfile', join(t.dataDir, 'ca.cert.pem'), '-noout'], { stdio: 'pipe' });

    const pem = await httpsJson({ url: `${t.server.ztsUrl}/crl`, ca: t.ca, headers: { accept: 'application/x-pem-file' } });
    assert.equal(pem.headers['content-type'], 'application/x-pem-file');
    assert.match(pem.text, /^-----BEGIN X509 CRL-----\n/);

    const token = await tokenRequest('grant_type=client_credentials&scope=sports:domain', api);
    assert.equal(token.status, 401, token.text);
    assert.match(token.body.error_description, /is revoked: the instance must register again/);
    const roleToken = await ztsCall(t.server.ztsUrl, t.ca, 'GET', '/domain/sports/token?role=readers', undefined, api);
    assert.equal(roleToken.status, 401, roleToken.text);
    const csr = await createCsr({
      keyPem: api.key,
      subject: { commonName: 'sports:role.readers' },
      uris: ['spiffe://sports/ra/readers', 'athenz://principal/sports.api'],
    });
    const roleCert = await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/rolecert', { csr }, api);
    assert.equal(roleCert.status, 401, roleCert.text);
    assert.match(roleCert.body.message, /is revoked: the instance must register again/);
  });

  test('replay detection: a replaced certificate that tries to refresh revokes every certificate of the instance', async () => {
    const api = await registerApi();
    const refresh = async (current: Identity) => {
      const { keyPem, csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId: api.instanceId });
      const res = await ztsCall(t.server.ztsUrl, t.ca, 'POST', `/instance/${PROVIDER}/sports/api/${api.instanceId}`, { csr, attestationData: attestation('sports.api', api.creds) }, current);
      return { res, next: { ...current, cert: res.body.x509Certificate, key: keyPem } };
    };
    const first = await refresh(api);
    assert.equal(first.res.status, 200, first.res.text);
    const second = await refresh(first.next);
    assert.equal(second.res.status, 200, second.res.text);
    const copy = await refresh(api);
    assert.equal(copy.res.status, 403, copy.res.text);
    assert.match(copy.res.body.message, /Certificate revoked/);
    const text = await crlText();
    for (const pem of [api.cert, first.next.cert, second.next.cert]) {
      const serial = new X509Certificate(pem).serialNumber.toLowerCase();
      assert.match(text, new RegExp(`Serial Number: 0*${serial}[\\s\\S]*?Key Compromise`, 'i'), serial);
    }
  });

  test('a real nginx with ssl_crl accepts a live certificate and refuses it after revocation and a CRL refetch', async () => {
    const nginxBin = nginxBinary();
    const api = await registerApi();
    const prefix = join(dir, 'nginx');
    mkdirSync(join(prefix, 'logs'), { recursive: true });
    writeFileSync(join(prefix, 'ca.pem'), t.ca);
    await fetchCrlTo(join(prefix, 'crl.pem'));
    const port = await freePort();
    writeFileSync(join(prefix, 'nginx.conf'), `
user root;
worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fastcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${join(t.dataDir, 'server.cert.pem')};
    ssl_certificate_key ${join(t.dataDir, 'server.key.pem')};
    ssl_verify_client on;
    ssl_client_certificate ${prefix}/ca.pem;
    ssl_crl ${prefix}/crl.pem;
    location / { return 200 "hello $ssl_client_s_dn\\n"; }
  }
}
`);
    const nginx: ChildProcess = spawn(nginxBin, ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    nginx.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const call = () => httpsJson({ url: `https://localhost:${port}/`, ca: t.ca, cert: api.cert, key: api.key, timeoutMs: 5000 }).catch((e: Error) => ({ status: 0, text: e.message }));
      let res = await call();
      for (let i = 0; i < 100 && res.status === 0; i++) {
        await sleep(100);
        res = await call();
      }
      assert.equal(res.status, 200, `${res.text} ${stderr}`);
      assert.match(res.text, /hello .*CN=sports\.api/);

      const del = await t.admin.call('DELETE', `/domain/sports/service/api/instance/${PROVIDER}/${api.instanceId}`);
      assert.equal(del.status, 204, del.text);
      await fetchCrlTo(join(prefix, 'crl.pem'));
      nginx.kill('SIGHUP'); // reload: new workers read the new CRL
      // Until then the old workers still accept it, and while they close a connection may hang up (status 0).
      for (let i = 0; i < 100 && res.status !== 400; i++) {
        await sleep(100);
        res = await call();
      }
      assert.equal(res.status, 400, `${res.text} ${stderr}`);
      assert.match(res.text, /The SSL certificate error/);
    } finally {
      nginx.kill('SIGQUIT');
      await new Promise((r) => (nginx.exitCode !== null ? r(undefined) : nginx.once('exit', r)));
    }
  });
});

/** The CRL as bytes (DER), with its content type. */
function getBytes(url: string): Promise<{ type: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { ca: t.ca }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => resolve({ type: r.headers['content-type'], body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

async function crlText(): Promise<string> {
  const res = await getBytes(`${t.server.ztsUrl}/crl`);
  assert.equal(res.type, 'application/pkix-crl');
  writeFileSync(join(dir, 'crl.der'), res.body);
  return execFileSync('openssl', ['crl', '-inform', 'DER', '-in', join(dir, 'crl.der'), '-text', '-noout'], { encoding: 'utf8' });
}

/** What a relying party's cron does: fetch the PEM CRL and replace the file nginx reads. */
async function fetchCrlTo(path: string): Promise<void> {
  const res = await httpsJson({ url: `${t.server.ztsUrl}/crl?format=pem`, ca: t.ca });
  assert.equal(res.status, 200);
  writeFileSync(`${path}.tmp`, res.text);
  renameSync(`${path}.tmp`, path);
}

