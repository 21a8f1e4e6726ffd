/**
 * Who is calling: an mTLS client certificate issued by Tessera's CA (principal
 * = CN), or a user token in `Authorization: Bearer` / `Athenz-Principal-Auth`
 * or the UI's session cookie. Checked once per request, in an onRequest hook,
 * because a token's revocation is looked up in the store.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '@tessera/store/schema';
import { tlsPrincipal } from '@tessera/core/x509/tls-principal';
import type { UserTokenSigner, VerifiedToken } from './user-tokens.ts';
import { sessionToken } from './browser-session.ts';
import { isRevoked } from './token-revocation.ts';

export interface Authenticator {
  /** The onRequest hook: finds and checks the caller's credentials. */
  authenticate(req: FastifyRequest): Promise<void>;
  /** The authenticated principal, or undefined; throws what checking the credentials threw (a CSRF refusal). */
  principal(req: FastifyRequest): string | undefined;
  /** A still valid (unrevoked) token of this request, if it carries one. */
  token(req: FastifyRequest): VerifiedToken | undefined;
  /** Why the request's token was refused (expired, bad signature, malformed, revoked), if it was. */
  refusal(req: FastifyRequest): string | undefined;
}

export function bearerToken(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const ntoken = req.headers['athenz-principal-auth'];
  return typeof ntoken === 'string' && ntoken !== '' ? ntoken : undefined;
}

interface Outcome {
  principal?: string;
  token?: VerifiedToken;
  refusal?: string;
  error?: unknown;
}

export function authenticator(tokens: UserTokenSigner, db: Kysely<Database>, now: () => Date): Authenticator {
  const outcomes = new WeakMap<FastifyRequest, Outcome>();

  async function check(req: FastifyRequest): Promise<Outcome> {
    let raw: string | undefined;
    try {
      raw = bearerToken(req) ?? sessionToken(req);
    } catch (error) {
      return { error };
    }
    if (raw === undefined) {
      const principal = tlsPrincipal(req.raw.socket as TLSSocket);
      return principal ? { principal } : {};
    }
    const checked = tokens.check(raw, now());
    if (!('token' in checked)) return { refusal: checked.message };
    const { token } = checked;
    if (await isRevoked(db, token)) return { refusal: 'the token was revoked (a logout or a password change)' };
    return { principal: token.principal, token };
  }

  return {
    async authenticate(req) {
      outcomes.set(req, await check(req));
    },
    principal(req) {
      const o = outcomes.get(req);
      if (o?.error) throw o.error;
      return o?.principal;
    },
    token: (req) => outcomes.get(req)?.token,
    refusal: (req) => outcomes.get(req)?.refusal,
  };
}
