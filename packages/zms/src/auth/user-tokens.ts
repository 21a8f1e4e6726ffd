/**
 * Short-lived user tokens in Athenz's principal token (NToken) layout:
 * `v=U1;d=user;n=jane;a=<salt>;t=<issued>;e=<expires>;k=0[;b=<services>];s=<signature>`,
 * signed ES256 (or RS256) by the server key, the signature in Athenz's YBase64
 * so Athenz's own token code (and the Athenz UI) verifies it with the
 * `sys.auth.zms` public key. Carried as `Authorization: Bearer` or
 * `Athenz-Principal-Auth`.
 *
 * A token with `b=` (authorized services) is only good with one of those
 * services' signature appended: `...;s=<sig>;bk=<key id>[;bn=<service>];bs=<sig>`
 * (Athenz's token chaining; checked in authorized-service.ts).
 */
import { createHash, createSign, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import { ybase64Encode } from '@tessera/core/ybase64';

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

export interface UserTokenSigner {
  /**
   * A token for `principal`. `notBefore` is the user's last password change:
   * the token is stamped no earlier than the second after it, so that tokens of
   * the old password (same second or before) stay revoked and this one does not.
   * `authorizedServices` become the token's `b=` field.
   */
  issue(principal: string, ttlSeconds: number, now: Date, notBefore?: Date, authorizedServices?: string[]): string;
  /** The token's claims (and the service signature appended to it), or undefined for an expired, malformed or forged token. */
  verify(token: string, now: Date): CheckedToken | undefined;
}

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
 * The signature's byte readings, in canonical form only: YBase64 (what Tessera
 * issues, as Athenz), and unpadded base64url, which Tessera issued before and
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
function splitToken(token: string): { unsigned: string; signature: string; service?: ServiceSignature } | undefined {
  const at = token.indexOf(';s=');
  if (at < 0) return undefined;
  const rest = token.slice(at + 3);
  const semi = rest.indexOf(';');
  if (semi < 0) return { unsigned: token.slice(0, at), signature: rest };
  const m = SERVICE_PART.exec(rest.slice(semi));
  const serviceSig = m && strictYbase64(m[3]!);
  if (!m || !serviceSig) return undefined;
  const service: ServiceSignature = { keyId: m[1]!, signed: token.slice(0, token.lastIndexOf(';bs=')), signature: serviceSig };
  if (m[2]) service.name = m[2];
  return { unsigned: token.slice(0, at), signature: rest.slice(0, semi), service };
}

/** True when a token issued at `issued` is older than the user's last password change. */
export function issuedBefore(issued: Date, notBefore: Date): boolean {
  return issued.getTime() < Math.ceil(notBefore.getTime() / 1000) * 1000;
}

/** Tokens whose signature checked out, by their exact user part: a session sends the same token on every request. */
const VERIFIED_MAX = 1024;

export function userTokenSigner(privateKey: KeyObject, publicKey: KeyObject): UserTokenSigner {
  const algorithm = 'sha256';
  const verified = new Map<string, VerifiedToken>();

  function verifyUserPart(unsigned: string, encoded: string): VerifiedToken | undefined {
    const parts = unsigned.split(';');
    if (!parts.every((p) => FIELD.test(p))) return undefined;
    const fields = new Map(parts.map((kv) => [kv[0], kv.slice(2)] as const));
    if (fields.size !== parts.length) return undefined; // a field given twice
    const valid = signatureReadings(encoded).some((signature) => {
      try {
        return createVerify(algorithm).update(unsigned).verify(publicKey, signature);
      } catch {
        return false;
      }
    });
    if (!valid) return undefined;
    const issued = Number(fields.get('t'));
    const expires = Number(fields.get('e'));
    const domain = fields.get('d');
    const name = fields.get('n');
    if (fields.get('v') !== 'U1' || !domain || !name || !Number.isInteger(issued) || !Number.isInteger(expires)) return undefined;
    const services = fields.get('b')?.split(',');
    if (services?.some((s) => s === '')) return undefined;
    return {
      principal: `${domain}.${name}`,
      // The signed part carries a random salt, so its hash names this token alone;
      // hashing the signature instead would let a re-encoded signature dodge revocation.
      id: createHash('sha256').update(unsigned).digest('hex'),
      issued: new Date(issued * 1000),
      expires: new Date(expires * 1000),
      ...(services ? { authorizedServices: services } : {}),
    };
  }

  return {
    issue(principal, ttlSeconds, now, notBefore, authorizedServices) {
      const dot = principal.lastIndexOf('.');
      const issued = Math.max(Math.floor(now.getTime() / 1000), notBefore ? Math.ceil(notBefore.getTime() / 1000) : 0);
      const fields = [
        'v=U1',
        `d=${principal.slice(0, dot)}`,
        `n=${principal.slice(dot + 1)}`,
        `a=${randomBytes(8).toString('hex')}`,
        `t=${issued}`,
        `e=${issued + ttlSeconds}`,
        'k=0',
      ];
      if (authorizedServices?.length) fields.push(`b=${authorizedServices.join(',')}`);
      const unsigned = fields.join(';');
      return `${unsigned};s=${ybase64Encode(createSign(algorithm).update(unsigned).sign(privateKey))}`;
    },
    verify(token, now) {
      if (token.length > 4096) return undefined;
      const split = splitToken(token);
      if (!split) return undefined;
      const userPart = `${split.unsigned};s=${split.signature}`;
      let checked = verified.get(userPart);
      if (!checked) {
        checked = verifyUserPart(split.unsigned, split.signature);
        if (!checked) return undefined;
        if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
        verified.set(userPart, checked);
      }
      if (!(checked.expires.getTime() > now.getTime())) return undefined;
      return split.service ? { ...checked, serviceSignature: split.service } : checked;
    },
  };
}
