/**
 * Signed domains verified the way an Athenz component (ZTS, a ZPE policy
 * updater) verifies them, independently of Tessera's signing code: the ZMS
 * public key from `sys.auth.zms` (YBase64 PEM, key id "0"), the canonical
 * string re-built here from Athenz's SignUtils rules (sorted names, only the
 * signed fields, unset fields left out, strings unescaped), SHA-256 signatures
 * in YBase64 (ECDSA DER), and the JWS form (DER by default, P1363 on request).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { httpsJson } from '@tessera/core/https-client';
import { clientCertificate } from './support/client-certificate.ts';
import { startTestServer, type TestServer } from './support/test-server.ts';

let t: TestServer;
before(async () => {
  t = await startTestServer('sqlite');
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await t.admin.call(method, path, body);
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  };
  await call('POST', '/domain', { name: 'signing', adminUsers: ['user.admin'], description: 'quotes " and \\ stay as they are' });
  await call('PUT', '/domain/signing/meta', { serviceCertExpiryMins: 1440, tokenExpiryMins: 60 });
  await call('PUT', '/domain/signing/role/readers', { name: 'signing:role.readers', roleMembers: [{ memberName: 'user.jane', expiration: '2031-01-01T00:00:00.000Z' }, { memberName: 'signing.api' }] });
  await call('PUT', '/domain/signing/role/empty', { name: 'signing:role.empty' });
  await call('PUT', '/domain/signing/policy/readers', { name: 'signing:policy.readers', assertions: [{ role: 'signing:role.readers', resource: 'signing:data.*', action: 'read' }, { role: 'signing:role.readers', resource: 'signing:secret', action: 'read', effect: 'DENY' }] });
  await call('PUT', '/domain/signing/policy/nothing', { name: 'signing:policy.nothing', assertions: [] });
  await call('PUT', '/domain/signing/service/api', { name: 'signing.api', description: 'the API', publicKeys: [] });
});
after(() => t?.close());

const fromYBase64 = (s: string): Buffer => Buffer.from(s.replace(/\./g, '+').replace(/_/g, '/').replace(/-/g, '='), 'base64');

/** SignUtils.asCanonicalString, written from its description (not from Tessera's code). */
type Json = string | number | boolean | null | undefined | Json[] | { [k: string]: Json };
function canon(value: Json): string {
  if (Array.isArray(value)) return '[' + value.map(canon).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined && value[k] !== null).sort();
    return '{' + keys.map((k) => '"' + k + '":' + canon(value[k])).join(',') + '}';
  }
  return typeof value === 'string' ? '"' + value + '"' : String(value);
}
const only = (o: Record<string, Json>, names: string[]): Record<string, Json> => Object.fromEntries(names.map((n) => [n, o[n]]));
type Obj = Record<string, Json>;
const policy = (p: Obj) => ({
  ...only(p, ['modified', 'name']),
  assertions: (p.assertions as Obj[]).length ? (p.assertions as Obj[]).map((a) => only(a, ['action', 'effect', 'resource', 'role'])) : undefined,
});
const domainPolicies = (c: Obj) => ({ domain: c.domain, policies: (c.policies as Obj[]).map(policy) });
function domainData(d: Obj): string {
  const pol = d.policies as Obj;
  return canon({
    ...only(d, ['account', 'auditEnabled', 'certDnsDomain', 'enabled', 'memberExpiryDays', 'modified', 'name', 'roleCertExpiryMins', 'serviceCertExpiryMins', 'serviceExpiryDays', 'signAlgorithm', 'tokenExpiryMins', 'ypmId']),
    groups: (d.groups as Obj[]).length ? (d.groups as Obj[]) : undefined,
    policies: { contents: domainPolicies(pol.contents as Obj), keyId: pol.keyId, signature: pol.signature },
    roles: (d.roles as Obj[]).map((r) => ({
      ...only(r, ['auditEnabled', 'certExpiryMins', 'memberExpiryDays', 'memberReviewDays', 'members', 'modified', 'name', 'selfServe', 'serviceExpiryDays', 'serviceReviewDays', 'signAlgorithm', 'tokenExpiryMins', 'trust']),
      roleMembers: r.roleMembers ? (r.roleMembers as Obj[]).map((m) => only(m, ['expiration', 'memberName', 'systemDisabled'])) : undefined,
    })),
    services: (d.services as Obj[]).map((s) => ({
      ...only(s, ['description', 'executable', 'group', 'hosts', 'modified', 'name', 'providerEndpoint', 'user']),
      publicKeys: ((s.publicKeys ?? []) as Obj[]).map((k) => only(k, ['id', 'key'])),
    })),
  });
}

async function zmsPublicKey(keyId: string): Promise<KeyObject> {
  const r = await t.admin.call<{ key: string }>('GET', `/domain/sys.auth/service/zms/publickey/${keyId}`);
  assert.equal(r.status, 200, r.text);
  return createPublicKey(fromYBase64(r.body.key).toString());
}

test('SignedDomain and its policies verify against the ZMS key published in sys.auth.zms', async () => {
  const r = await t.admin.call<{ domains: { domain: Obj; signature: string; keyId: string }[] }>('GET', '/sys/modified_domains?domain=signing');
  assert.equal(r.status, 200, r.text);
  const [signed] = r.body.domains;
  assert.equal(signed.keyId, '0');
  assert.match(signed.signature, /^[A-Za-z0-9._-]+$/, 'YBase64');
  const key = await zmsPublicKey(signed.keyId);
  const pol = signed.domain.policies as Obj;
  assert.equal(pol.keyId, '0');
  assert.ok(verify('sha256', Buffer.from(canon(domainPolicies(pol.contents as Obj))), key, fromYBase64(String(pol.signature))), 'policies signature');
  assert.ok(verify('sha256', Buffer.from(domainData(signed.domain)), key, fromYBase64(signed.signature)), 'domain signature');

  // The canonical form really covers the data: a changed member or assertion no longer verifies.
  const tampered = structuredClone(signed.domain) as Obj;
  ((tampered.roles as Obj[]).find((x) => x.name === 'signing:role.readers')!.roleMembers as Obj[])[0].memberName = 'user.mallory';
  assert.equal(verify('sha256', Buffer.from(domainData(tampered)), key, fromYBase64(signed.signature)), false);
  const contents = structuredClone(pol.contents) as Obj;
  ((contents.policies as Obj[]).find((p) => p.name === 'signing:policy.readers')!.assertions as Obj[])[1].effect = 'ALLOW';
  assert.equal(verify('sha256', Buffer.from(canon(domainPolicies(contents))), key, fromYBase64(String(pol.signature))), false);
});

test('every domain in the full change feed is signed (sys.* principal, master copy)', async () => {
  const zts = await clientCertificate({ keyPem: t.server.tls.caKeyPem, certPem: t.server.tls.caCertPem }, { commonName: 'sys.auth.zts' });
  const r = await httpsJson<{ domains: { domain: Obj; signature: string; keyId: string }[] }>({ url: `${t.url}/sys/modified_domains?master=true`, ca: t.ca, ...zts });
  assert.equal(r.status, 200, r.text);
  const zmsKey = await zmsPublicKey('0');
  assert.ok(r.body.domains.length >= 5);
  for (const d of r.body.domains) {
    assert.ok(verify('sha256', Buffer.from(domainData(d.domain)), zmsKey, fromYBase64(d.signature)), `signature of ${String(d.domain.name)}`);
  }
  // Meta-only entries are not signed, as in Athenz.
  const meta = await t.admin.call<{ domains: { domain: Obj; signature?: string }[] }>('GET', '/sys/modified_domains?metaonly=true');
  assert.ok(meta.body.domains.every((d) => d.signature === undefined && typeof d.domain.modified === 'string'));
});

test('JWSDomain verifies: ES256 in DER by default, P1363 when asked', async () => {
  const key = await zmsPublicKey('0');
  for (const [query, dsaEncoding] of [['', 'der'], ['?signaturep1363format=true', 'ieee-p1363']] as const) {
    const r = await t.admin.call<{ payload: string; protected: string; header: { kid: string }; signature: string }>('GET', `/domain/signing/signed${query}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(Buffer.from(r.body.protected, 'base64url').toString()), { kid: '0', alg: 'ES256' });
    assert.deepEqual(r.body.header, { kid: '0' });
    const ok = verify('sha256', Buffer.from(`${r.body.protected}.${r.body.payload}`), { key, dsaEncoding }, Buffer.from(r.body.signature, 'base64url'));
    assert.ok(ok, `JWS signature (${dsaEncoding})`);
    const data = JSON.parse(Buffer.from(r.body.payload, 'base64url').toString()) as Obj;
    const pol = data.policies as Obj;
    assert.ok(verify('sha256', Buffer.from(canon(domainPolicies(pol.contents as Obj))), key, fromYBase64(String(pol.signature))), 'policies signature inside the JWS');
  }
});
