/**
 * Signed domain data, exactly as Athenz's ZMS signs it (ZMSImpl
 * retrieveSignedDomainData / generateJWSDomain, SignUtils, Crypto.sign):
 *
 * - SignedDomain: `policies.signature` signs the canonical string of
 *   DomainPolicies {domain, policies}; then `signature` signs the canonical
 *   string of the whole DomainData (its policies including that signature).
 *   Both are SHA-256 with the server key (ECDSA signatures in DER), encoded in
 *   YBase64; `keyId` names the key, published as a public key of `sys.auth.zms`.
 * - JWSDomain: base64url(JSON of the DomainData) signed as a JWS with
 *   `{"kid","alg"}` as protected header; ES256 signatures in DER unless the
 *   caller asks for P1363 (`signaturep1363format=true`), as in Athenz.
 *
 * The canonical string (SignUtils.asCanonicalString) lists only the fields
 * Athenz signs, in sorted order, with strings written as they are (no escaping).
 */
import { createSign, type KeyObject } from 'node:crypto';
import type { DomainData, Policy, Role, ServiceIdentity } from '@tessera/core/model';
import type { DomainSummary } from '@tessera/store/domain-data';
import { ybase64Encode } from '@tessera/core/ybase64';
import type { ZmsContext } from './context.ts';
import { SYSTEM_DOMAIN } from './config.ts';
import { writeDomain } from './domain-write.ts';

export interface DomainSigningKey {
  keyId: string;
  privateKey: KeyObject;
  /** 'ES256' for EC P-256 keys, 'RS256' for RSA. */
  alg: 'ES256' | 'RS256';
}


type Value = string | number | boolean | Struct | Value[];
interface Struct {
  [name: string]: Value;
}

/** A struct of the given fields of `source` that are set (null and undefined are left out, as in SignUtils.appendObject). */
function pick(source: object, fields: string[]): Struct {
  const out: Struct = {};
  const s = source as Record<string, unknown>;
  for (const f of fields) {
    const v = s[f];
    if (v !== undefined && v !== null) out[f] = v as Value;
  }
  return out;
}

function canonical(v: Value): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `"${k}":${canonical(v[k]!)}`).join(',')}}`;
  if (typeof v === 'string') return `"${v}"`;
  return String(v);
}

function policyStruct(p: Policy): Struct {
  const s = pick(p, ['modified', 'name']);
  if (p.assertions?.length) s.assertions = p.assertions.map((a) => pick(a, ['action', 'effect', 'resource', 'role']));
  return s;
}

function roleStruct(r: Role): Struct {
  const s = pick(r, ['auditEnabled', 'certExpiryMins', 'memberExpiryDays', 'memberReviewDays', 'members', 'modified', 'name', 'selfServe', 'serviceExpiryDays', 'serviceReviewDays', 'signAlgorithm', 'tokenExpiryMins', 'trust']);
  if (r.roleMembers) s.roleMembers = r.roleMembers.map((m) => pick(m, ['expiration', 'memberName', 'systemDisabled']));
  return s;
}

function serviceStruct(svc: ServiceIdentity): Struct {
  const s = pick(svc, ['description', 'executable', 'group', 'hosts', 'modified', 'name', 'providerEndpoint', 'user']);
  s.publicKeys = (svc.publicKeys ?? []).map((k) => pick(k, ['id', 'key']));
  return s;
}

export const canonicalDomainPolicies = (contents: { domain: string; policies: Policy[] }): string =>
  canonical({ domain: contents.domain, policies: contents.policies.map(policyStruct) });

/** Athenz's DomainData as a SignedDomain carries it: policies signed, the rest as stored. */
export interface SignedDomainData extends DomainData {
  policies: { contents: { domain: string; policies: Policy[] }; signature: string; keyId: string };
}

export function canonicalDomainData(d: SignedDomainData): string {
  const s = pick(d, ['account', 'auditEnabled', 'certDnsDomain', 'enabled', 'memberExpiryDays', 'modified', 'name', 'roleCertExpiryMins', 'serviceCertExpiryMins', 'serviceExpiryDays', 'signAlgorithm', 'tokenExpiryMins', 'ypmId']);
  if (d.groups?.length) s.groups = d.groups as Value[];
  s.policies = {
    ...pick(d.policies, ['keyId', 'signature']),
    contents: { domain: d.policies.contents.domain, policies: d.policies.contents.policies.map(policyStruct) },
  };
  s.roles = d.roles.map(roleStruct);
  s.services = d.services.map(serviceStruct);
  return canonical(s);
}

/** Crypto.sign: SHA-256 with the key's algorithm (ECDSA in DER), YBase64-encoded. */
function sign(key: DomainSigningKey, message: string): string {
  return ybase64Encode(createSign('sha256').update(message, 'utf8').sign(key.privateKey));
}

/** The domain with its policies signed (what both SignedDomain and JWSDomain carry). */
function withSignedPolicies(key: DomainSigningKey, data: DomainData): SignedDomainData {
  const contents = { domain: data.name, policies: data.policies.contents.policies };
  return { ...data, enabled: data.enabled !== false, policies: { contents, signature: sign(key, canonicalDomainPolicies(contents)), keyId: key.keyId } };
}

/** Athenz's SignedDomain {domain, signature, keyId}. */
export function signedDomain(key: DomainSigningKey, data: DomainData) {
  const domain = withSignedPolicies(key, data);
  return { domain, signature: sign(key, canonicalDomainData(domain)), keyId: key.keyId };
}

/** Athenz's JWSDomain {payload, protected, header, signature}. */
export function jwsDomain(key: DomainSigningKey, data: DomainData, p1363 = false) {
  const b64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');
  const protectedHeader = b64url(`{"kid":"${key.keyId}","alg":"${key.alg}"}`);
  const payload = b64url(JSON.stringify(withSignedPolicies(key, data)));
  const signature = createSign('sha256')
    .update(`${protectedHeader}.${payload}`)
    .sign(key.alg === 'ES256' && p1363 ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey);
  return { payload, protected: protectedHeader, header: { kid: key.keyId }, signature: b64url(signature) };
}

/** Domains modified after `since` (an ISO timestamp, or all when absent), with the newest time as the ETag. */
export function modifiedDomains(ctx: ZmsContext, since: string | undefined) {
  // A poll (with `since`) usually finds a few, from the snapshots' log of changes.
  const list = since
    ? (ctx.snapshots.modifiedSince(since) ?? [...ctx.snapshots.summaries()].filter((d) => d.modified > since)).sort((a, b) => (a.name < b.name ? -1 : 1))
    : ctx.snapshots.names().map((n) => ctx.snapshots.summary(n)!);
  const etag = list.reduce((max, d) => (d.modified > max ? d.modified : max), since ?? '1970-01-01T00:00:00.000Z');
  return { etag, domains: list };
}

/** The meta-only SignedDomain Athenz returns for `metaonly=true` (unsigned, as in Athenz). */
export const metaOnly = (d: DomainSummary) => ({
  domain: { name: d.name, modified: d.modified, enabled: d.enabled !== false, ...(d.account ? { account: d.account } : {}) },
});

/**
 * Publishes the ZMS public key where Athenz clients look for it: a public key
 * of the `sys.auth.zms` service, id = the key id, YBase64 of the PEM
 * (athenz-conf builds athenz.conf's zmsPublicKeys from it).
 */
export async function publishZmsPublicKey(ctx: ZmsContext, keyId: string, publicKey: KeyObject): Promise<void> {
  const key = ybase64Encode(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const zms = ctx.snapshots.get(SYSTEM_DOMAIN)?.services.find((s) => s.name === `${SYSTEM_DOMAIN}.zms`);
  if (zms?.publicKeys?.some((k) => k.id === keyId && k.key === key)) return;
  await writeDomain(ctx, { principal: `${SYSTEM_DOMAIN}.zms`, auditRef: 'bootstrap' }, { domain: SYSTEM_DOMAIN, api: 'bootstrap' }, async (trx) => {
    await trx.deleteFrom('public_keys').where('domain', '=', SYSTEM_DOMAIN).where('service', '=', 'zms').where('key_id', '=', keyId).execute();
    await trx.insertInto('public_keys').values({ domain: SYSTEM_DOMAIN, service: 'zms', key_id: keyId, key }).execute();
    return { result: undefined, details: { publicKey: `${SYSTEM_DOMAIN}.zms ${keyId}` } };
  });
}
