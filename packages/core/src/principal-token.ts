/**
 * Athenz principal tokens (NTokens) as Athenz's auth_core reads them, shared
 * by ZMS (which issues user tokens) and ZTS (which accepts them):
 * `v=U1;d=user;n=jane;a=<salt>;t=<issued>;e=<expires>;k=<key id>[;b=<services>];s=<signature>`,
 * the signature in YBase64 over everything before `;s=`. A token with `b=`
 * (authorized services) is only good with one of those services' signature
 * appended: `...;s=<sig>;bk=<key id>[;bn=<service>];bs=<sig>`.
 */
import { createHash, createPublicKey, createVerify, type KeyObject } from 'node:crypto';
import type { DomainData } from './model.ts';
import { ybase64Decode, ybase64Encode } from './ybase64.ts';

export interface VerifiedToken {
  principal: string;
  /** Stable id of this token (a hash of its signed part): what logout revokes. */
  id: string;
  issued: Date;
  expires: Date;
  /** `b=`: the services this token may only be used through. */
  authorizedServices?: string[];
}

/** The part an authorized service appended: `;bk=<keyId>[;bn=<name>];bs=<signature>`. */
export interface ServiceSignature {
  keyId: string;
  name?: string;
  /** What the service signed: the whole token before `;bs=`. */
  signed: string;
  signature: Buffer;
}

export interface CheckedToken extends VerifiedToken {
  serviceSignature?: ServiceSignature;
}

/** The parts of a token: the user part (what the cache keys on) and what a service appended. */
export interface TokenParts {
  userPart: string;
  unsigned: string;
  signature: string;
  service?: ServiceSignature;
}

/** A token's signing key by its `k=` key id, or undefined when unknown. */
export type TokenKeyLookup = (keyId: string) => KeyObject | undefined;

const MAX_TOKEN_LENGTH = 4096;
const FIELD = /^[a-z]=[A-Za-z0-9._,-]+$/;
const SERVICE_PART = /^;bk=([A-Za-z0-9._-]+)(?:;bn=([A-Za-z0-9._-]+))?;bs=([A-Za-z0-9._-]+)$/;
const YBASE64 = /^[A-Za-z0-9._]+-{0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A signature in its one canonical YBase64 form, else undefined. */
export function strictYbase64(encoded: string): Buffer | undefined {
  if (!YBASE64.test(encoded)) return undefined;
  const bytes = Buffer.from(encoded.replace(/\./g, '+').replace(/_/g, '/').replace(/-/g, '='), 'base64');
  return ybase64Encode(bytes) === encoded ? bytes : undefined;
}

/**
 * The signature's byte readings, in canonical form only: YBase64 (what Athenz
 * and Tessera issue), and unpadded base64url, which Tessera issued before and
 * accepts until those tokens expire. A string can read both ways (`_` and the
 * letters mean the same in both): each reading is tried.
 */
function signatureReadings(encoded: string): Buffer[] {
  const readings: Buffer[] = [];
  const y = strictYbase64(encoded);
  if (y) readings.push(y);
  if (BASE64URL.test(encoded)) {
    const legacy = Buffer.from(encoded, 'base64url');
    if (legacy.toString('base64url') === encoded && !(y && legacy.equals(y))) readings.push(legacy);
  }
  return readings;
}

/** Splits `<user part>;s=<sig>[<service part>]` as Athenz does: the first `;s=`, then the user signature up to the next `;`. */
export function splitToken(token: string): TokenParts | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const at = token.indexOf(';s=');
  if (at < 0) return undefined;
  const rest = token.slice(at + 3);
  const semi = rest.indexOf(';');
  const unsigned = token.slice(0, at);
  if (semi < 0) return { userPart: token, unsigned, signature: rest };
  const m = SERVICE_PART.exec(rest.slice(semi));
  const serviceSig = m && strictYbase64(m[3]!);
  if (!m || !serviceSig) return undefined;
  const service: ServiceSignature = { keyId: m[1]!, signed: token.slice(0, token.lastIndexOf(';bs=')), signature: serviceSig };
  if (m[2]) service.name = m[2];
  const signature = rest.slice(0, semi);
  return { userPart: `${unsigned};s=${signature}`, unsigned, signature, service };
}

/** The user part's claims, or why they are not to be believed: fields that do not parse, or a signature that does not verify. */
export type UserPartCheck = { token: VerifiedToken } | { reason: 'malformed' | 'signature'; why: string };

/** Checks the user part with the key its `k=` names; expiry is the caller's to check. */
export function checkUserPart(parts: Pick<TokenParts, 'unsigned' | 'signature'>, keyOf: TokenKeyLookup): UserPartCheck {
  const malformed = (why: string): UserPartCheck => ({ reason: 'malformed', why });
  const { unsigned } = parts;
  const fields = unsigned.split(';');
  if (!fields.every((p) => FIELD.test(p))) return malformed('a field is not of the form x=value');
  const claims = new Map(fields.map((kv) => [kv[0], kv.slice(2)] as const));
  if (claims.size !== fields.length) return malformed('a field is given twice');
  const readings = signatureReadings(parts.signature);
  if (readings.length === 0) return malformed('the signature s= is empty or not YBase64');
  const key = keyOf(claims.get('k') ?? '0');
  const valid = key !== undefined && readings.some((signature) => {
    try {
      return createVerify('sha256').update(unsigned).verify(key, signature);
    } catch {
      return false;
    }
  });
  // Checked before the claims: what an unverified token says (its expiry included) is not to be believed.
  if (!valid) return { reason: 'signature', why: "the token's signature does not verify (not signed by this server's key, or changed since)" };
  const issued = Number(claims.get('t'));
  const expires = Number(claims.get('e'));
  const domain = claims.get('d');
  const name = claims.get('n');
  if (claims.get('v') !== 'U1' || !domain || !name || !Number.isInteger(issued) || !Number.isInteger(expires)) {
    return malformed('it needs v=U1, d=, n= and whole-second t= and e=');
  }
  const services = claims.get('b')?.split(',');
  if (services?.some((s) => s === '')) return malformed('b= names an empty service');
  return {
    token: {
      principal: `${domain}.${name}`,
      // The signed part carries a random salt, so its hash names this token alone;
      // hashing the signature instead would let a re-encoded signature dodge revocation.
      id: createHash('sha256').update(unsigned).digest('hex'),
      issued: new Date(issued * 1000),
      expires: new Date(expires * 1000),
      ...(services ? { authorizedServices: services } : {}),
    },
  };
}

/** The user part's claims when its signature checks with the key its `k=` names (expiry is the caller's to check). */
export function verifyUserPart(parts: Pick<TokenParts, 'unsigned' | 'signature'>, keyOf: TokenKeyLookup): VerifiedToken | undefined {
  const checked = checkUserPart(parts, keyOf);
  return 'token' in checked ? checked.token : undefined;
}

/** True when a token issued at `issued` is older than the user's last password change. */
export function issuedBefore(issued: Date, notBefore: Date): boolean {
  return issued.getTime() < Math.ceil(notBefore.getTime() / 1000) * 1000;
}

/** A registered service public key, or undefined when the service or key id is unknown. */
export type ServiceKeyLookup = (service: string, keyId: string) => KeyObject | undefined;

/** Service public keys (YBase64 PEM, as ZMS stores them) from domain data; each key text parsed once. */
export function serviceKeys(domainOf: (name: string) => Pick<DomainData, 'services'> | undefined): ServiceKeyLookup {
  const parsed = new Map<string, KeyObject>();
  return (service, keyId) => {
    const dot = service.lastIndexOf('.');
    if (dot <= 0 || dot === service.length - 1) return undefined;
    const stored = domainOf(service.slice(0, dot))?.services.find((s) => s.name === service)?.publicKeys?.find((k) => k.id === keyId)?.key;
    if (!stored) return undefined;
    let key = parsed.get(stored);
    if (!key) {
      try {
        key = createPublicKey(ybase64Decode(stored));
      } catch {
        return undefined;
      }
      if (parsed.size >= 256) parsed.clear();
      parsed.set(stored, key);
    }
    return key;
  };
}

/**
 * Athenz's authorized service tokens (PrincipalAuthority.validateAuthorizeService):
 * for a token with `b=` or a service signature, the service it is used
 * through, or undefined when that does not check out (no signature, a service
 * the token does not name or the allow-list lacks, a wrong key or signature).
 * Tokens with neither: null. The caller stays the user.
 */
export function authorizedServiceOf(token: CheckedToken, allowed: readonly string[], keyOf: ServiceKeyLookup): string | null | undefined {
  const listed = token.authorizedServices;
  const sig = token.serviceSignature;
  if (!listed && !sig) return null;
  // `b=` without a service signature, or a signature with no `b=`: Athenz refuses both.
  if (!listed || !sig) return undefined;
  // With several services the signer names itself (`bn=`); with one, it is that one.
  const service = sig.name ?? (listed.length === 1 ? listed[0] : undefined);
  if (!service || !listed.includes(service) || !allowed.includes(service)) return undefined;
  const key = keyOf(service, sig.keyId);
  if (!key) return undefined;
  try {
    return createVerify('sha256').update(sig.signed).verify(key, sig.signature) ? service : undefined;
  } catch {
    return undefined;
  }
}
