/**
 * Short-lived user tokens in Athenz's principal token (NToken) layout:
 * `v=U1;d=user;n=jane;a=<salt>;t=<issued>;e=<expires>;k=0;s=<signature>`,
 * signed ES256 (or RS256) by the server key. Carried as `Authorization: Bearer`
 * or `Athenz-Principal-Auth`.
 */
import { createSign, createVerify, randomBytes, type KeyObject } from 'node:crypto';

export interface UserTokenSigner {
  issue(principal: string, ttlSeconds: number, now: Date): string;
  /** The principal, or undefined for an expired, malformed or forged token. */
  verify(token: string, now: Date): string | undefined;
}

export function userTokenSigner(privateKey: KeyObject, publicKey: KeyObject): UserTokenSigner {
  const algorithm = 'sha256';
  return {
    issue(principal, ttlSeconds, now) {
      const dot = principal.lastIndexOf('.');
      const issued = Math.floor(now.getTime() / 1000);
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
    verify(token, now) {
      const at = token.lastIndexOf(';s=');
      if (at < 0) return undefined;
      const unsigned = token.slice(0, at);
      const signature = Buffer.from(token.slice(at + 3), 'base64url');
      let valid = false;
      try {
        valid = createVerify(algorithm).update(unsigned).verify(publicKey, signature);
      } catch {
        return undefined;
      }
      if (!valid) return undefined;
      const fields = new Map(unsigned.split(';').map((kv) => kv.split('=', 2) as [string, string]));
      const expires = Number(fields.get('e'));
      const domain = fields.get('d');
      const name = fields.get('n');
      if (fields.get('v') !== 'U1' || !domain || !name || !(expires * 1000 > now.getTime())) return undefined;
      return `${domain}.${name}`;
    },
  };
}
