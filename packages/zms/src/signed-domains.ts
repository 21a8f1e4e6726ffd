/**
 * The change feed ZTS follows: `GET /sys/modified_domains` (which domains
 * changed since an ETag) and `GET /domain/{d}/signed` (the whole domain as a
 * JWS signed by the server key).
 */
import { createSign, type KeyObject } from 'node:crypto';
import type { DomainData } from '@tessera/core/model';
import type { ZmsContext } from './context.ts';

export interface DomainSigningKey {
  keyId: string;
  privateKey: KeyObject;
  /** 'ES256' for EC P-256 keys, 'RS256' for RSA. */
  alg: 'ES256' | 'RS256';
}

const b64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');

export function signDomain(key: DomainSigningKey, data: DomainData) {
  const protectedHeader = b64url(JSON.stringify({ kid: key.keyId, alg: key.alg }));
  const payload = b64url(JSON.stringify(data));
  // ES256 in JWS uses the raw r||s form, not DER.
  const signature = createSign('sha256')
    .update(`${protectedHeader}.${payload}`)
    .sign(key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey)
    .toString('base64url');
  return { payload, protected: protectedHeader, header: { kid: key.keyId }, signature };
}

/** Domains modified after `since` (an ISO timestamp, or all when absent), with the newest time as the ETag. */
export function modifiedDomains(ctx: ZmsContext, since: string | undefined) {
  const list = ctx.snapshots
    .names()
    .map((n) => ctx.snapshots.get(n)!)
    .filter((d) => !since || d.modified > since);
  const etag = list.reduce((max, d) => (d.modified > max ? d.modified : max), since ?? '1970-01-01T00:00:00.000Z');
  return {
    etag,
    domains: list.map((d) => ({
      domain: { name: d.name, modified: d.modified, enabled: d.enabled !== false, ...(d.account ? { account: d.account } : {}) },
    })),
  };
}
