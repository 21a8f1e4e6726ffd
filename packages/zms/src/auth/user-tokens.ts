/**
 * Short-lived user tokens in Athenz's principal token (NToken) layout:
 * `v=U1;d=user;n=jane;a=<salt>;t=<issued>;e=<expires>;k=0;s=<signature>`,
 * signed ES256 (or RS256) by the server key. Carried as `Authorization: Bearer`
 * or `Athenz-Principal-Auth`.
 */
import { createHash, createSign, createVerify, randomBytes, type KeyObject } from 'node:crypto';

export interface VerifiedToken {
  principal: string;
  /** Stable id of this token (a hash of its signed part): what logout revokes. */
  id: string;
  issued: Date;
  expires: Date;
}

/** Why a token was refused: said back to the caller, so that an expired token is told from a forged one. */
export type TokenRefusal = { reason: 'malformed' | 'signature' | 'expired'; message: string };

export type TokenCheck = { token: VerifiedToken } | TokenRefusal;

export interface UserTokenSigner {
  /**
   * A token for `principal`. `notBefore` is the user's last password change:
   * the token is stamped no earlier than the second after it, so that tokens of
   * the old password (same second or before) stay revoked and this one does not.
   */
  issue(principal: string, ttlSeconds: number, now: Date, notBefore?: Date): string;
  /** The token's claims, or why it is refused (malformed, a signature that does not verify, expired). */
  check(token: string, now: Date): TokenCheck;
  /** The token's claims, or undefined for an expired, malformed or forged token. */
  verify(token: string, now: Date): VerifiedToken | undefined;
}

const FIELD = /^[a-z]=[A-Za-z0-9._-]+$/;
const SIGNATURE = /^[A-Za-z0-9_-]+$/;

/** True when a token issued at `issued` is older than the user's last password change. */
export function issuedBefore(issued: Date, notBefore: Date): boolean {
  return issued.getTime() < Math.ceil(notBefore.getTime() / 1000) * 1000;
}

/** Tokens whose signature checked out, by their exact text: a session sends the same token on every request. */
const VERIFIED_MAX = 1024;

export function userTokenSigner(privateKey: KeyObject, publicKey: KeyObject): UserTokenSigner {
  const algorithm = 'sha256';
  const verified = new Map<string, VerifiedToken>();
  const signer: UserTokenSigner = {
    issue(principal, ttlSeconds, now, notBefore) {
      const dot = principal.lastIndexOf('.');
      const issued = Math.max(Math.floor(now.getTime() / 1000), notBefore ? Math.ceil(notBefore.getTime() / 1000) : 0);
      const unsigned = [
        'v=U1',
        `d=${principal.slice(0, dot)}`,
        `n=${principal.slice(dot + 1)}`,
        `a=${randomBytes(8).toString('hex')}`,
        `t=${issued}`,
        `e=${issued + ttlSeconds}`,
        'k=0',
      ].join(';');
      const signature = createSign(algorithm).update(unsigned).sign(privateKey).toString('base64url');
      return `${unsigned};s=${signature}`;
    },
    check(token, now) {
      const malformed = (why: string): TokenRefusal => ({ reason: 'malformed', message: `the token is malformed (${why})` });
      const expired = (at: Date): TokenRefusal => ({ reason: 'expired', message: `the token expired at ${at.toISOString()}` });
      const known = verified.get(token);
      if (known) return known.expires.getTime() > now.getTime() ? { token: known } : expired(known.expires);
      if (token.length > 4096) return malformed('longer than 4096 characters');
      const at = token.lastIndexOf(';s=');
      if (at < 0) return malformed('no signature field s=');
      const unsigned = token.slice(0, at);
      const encoded = token.slice(at + 3);
      // One canonical encoding: unpadded base64url that decodes and re-encodes to itself, nothing after it.
      if (!SIGNATURE.test(encoded)) return malformed('the signature is not unpadded base64url');
      const signature = Buffer.from(encoded, 'base64url');
      if (signature.toString('base64url') !== encoded) return malformed('the signature is not in canonical base64url');
      const parts = unsigned.split(';');
      if (!parts.every((p) => FIELD.test(p))) return malformed('a field is not of the form x=value');
      const fields = new Map(parts.map((kv) => [kv[0], kv.slice(2)] as const));
      if (fields.size !== parts.length) return malformed('a field is given twice');
      let valid = false;
      try {
        valid = createVerify(algorithm).update(unsigned).verify(publicKey, signature);
      } catch {
        valid = false;
      }
      // Checked before the claims: what an unverified token says (its expiry included) is not to be believed.
      if (!valid) return { reason: 'signature', message: "the token's signature does not verify (not signed by this server's key, or changed since)" };
      const issued = Number(fields.get('t'));
      const expires = Number(fields.get('e'));
      const domain = fields.get('d');
      const name = fields.get('n');
      if (fields.get('v') !== 'U1' || !domain || !name || !Number.isInteger(issued) || !Number.isInteger(expires)) {
        return malformed('it needs v=U1, d=, n= and whole-second t= and e=');
      }
      if (!(expires * 1000 > now.getTime())) return expired(new Date(expires * 1000));
      const checked: VerifiedToken = {
        principal: `${domain}.${name}`,
        // The signed part carries a random salt, so its hash names this token alone;
        // hashing the signature instead would let a re-encoded signature dodge revocation.
        id: createHash('sha256').update(unsigned).digest('hex'),
        issued: new Date(issued * 1000),
        expires: new Date(expires * 1000),
      };
      if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
      verified.set(token, checked);
      return { token: checked };
    },
    verify(token, now) {
      const result = signer.check(token, now);
      return 'token' in result ? result.token : undefined;
    },
  };
  return signer;
}
