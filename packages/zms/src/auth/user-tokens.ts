/**
 * Short-lived user tokens in Athenz's principal token (NToken) layout
 * (core/principal-token.ts), signed ES256 (or RS256) by the server key, the
 * signature in Athenz's YBase64 so Athenz's own token code (and the Athenz UI)
 * verifies it with the `sys.auth.zms` public key. Carried as
 * `Authorization: Bearer` or `Athenz-Principal-Auth`.
 */
import { createSign, randomBytes, type KeyObject } from 'node:crypto';
import { ybase64Encode } from '@tessera/core/ybase64';
import { checkUserPart, splitToken, type CheckedToken, type VerifiedToken } from '@tessera/core/principal-token';

export type { CheckedToken, VerifiedToken } from '@tessera/core/principal-token';

/** Why a token was refused: said back to the caller, so that an expired token is told from a forged one. */
export type TokenRefusal = { reason: 'malformed' | 'signature' | 'expired'; message: string };

export type TokenCheck = { token: CheckedToken } | TokenRefusal;

export interface UserTokenSigner {
  /**
   * A token for `principal`. `notBefore` is the user's last password change:
   * the token is stamped no earlier than the second after it, so that tokens of
   * the old password (same second or before) stay revoked and this one does not.
   * `authorizedServices` become the token's `b=` field.
   */
  issue(principal: string, ttlSeconds: number, now: Date, notBefore?: Date, authorizedServices?: string[]): string;
  /** The token's claims (and the service signature appended to it), or why it is refused (malformed, a signature that does not verify, expired). */
  check(token: string, now: Date): TokenCheck;
  /** The token's claims, or undefined for an expired, malformed or forged token. */
  verify(token: string, now: Date): CheckedToken | undefined;
}

/** Tokens whose signature checked out, by their exact user part: a session sends the same token on every request. */
const VERIFIED_MAX = 1024;

export function userTokenSigner(privateKey: KeyObject, publicKey: KeyObject): UserTokenSigner {
  const verified = new Map<string, VerifiedToken>();
  // Tessera signs with one key, id 0 (published as sys.auth.zms key 0).
  const keyOf = (keyId: string) => (keyId === '0' ? publicKey : undefined);
  const malformed = (why: string): TokenRefusal => ({ reason: 'malformed', message: `the token is malformed (${why})` });
  const signer: UserTokenSigner = {
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
      return `${unsigned};s=${ybase64Encode(createSign('sha256').update(unsigned).sign(privateKey))}`;
    },
    check(token, now) {
      if (!token.includes(';s=')) return malformed('no signature field s=');
      const parts = splitToken(token);
      if (!parts) return malformed('too long, or a service signature that is not YBase64');
      let checked = verified.get(parts.userPart);
      if (!checked) {
        const result = checkUserPart(parts, keyOf);
        if (!('token' in result)) return result.reason === 'signature' ? { reason: 'signature', message: result.why } : malformed(result.why);
        checked = result.token;
        if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
        verified.set(parts.userPart, checked);
      }
      if (!(checked.expires.getTime() > now.getTime())) return { reason: 'expired', message: `the token expired at ${checked.expires.toISOString()}` };
      return { token: parts.service ? { ...checked, serviceSignature: parts.service } : checked };
    },
    verify(token, now) {
      const result = signer.check(token, now);
      return 'token' in result ? result.token : undefined;
    },
  };
  return signer;
}
