/**
 * Who is calling: an mTLS client certificate issued by Tessera's CA (principal
 * = CN), or a user token in `Authorization: Bearer` / `Athenz-Principal-Auth`
 * (possibly signed on top by an authorized service, such as Athenz's UI
 * server: the caller is then the user) or the UI's session cookie. Checked once per request, in an onRequest hook,
 * because a token's revocation is looked up in the store.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '@tessera/store/schema';
import { tlsPrincipal } from '@tessera/core/x509/tls-principal';
import type { UserTokenSigner, VerifiedToken } from './user-tokens.ts';
import { sessionToken } from './browser-session.ts';
import { isRevoked } from '@tessera/store/revoked-tokens';
import { authorizedServiceOf, type ServiceKeyLookup } from '@tessera/core/principal-token';

export interface Authenticator {
  /** The onRequest hook: finds and checks the caller's credentials. */
  authenticate(req: FastifyRequest): Promise<void>;
  /** The authenticated principal, or undefined; throws what checking the credentials threw (a CSRF refusal). */
  principal(req: FastifyRequest): string | undefined;
  /** A still valid (unrevoked) token of this request, if it carries one. */
  token(req: FastifyRequest): VerifiedToken | undefined;
  /** Why the request's token was refused (expired, bad signature, malformed, revoked), if it was. */
  refusal(req: FastifyRequest): string | undefined;
  /** The authorized service the request's user token came through, if any. */
  authorizedService(req: FastifyRequest): string | undefined;
}

/** Which services may carry users' tokens (Athenz's authorized_services), and their registered keys. */
export interface AuthorizedServices {
  allowed: readonly string[];
  keyOf: ServiceKeyLookup;
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
  authorizedService?: string;
  error?: unknown;
}

export function authenticator(tokens: UserTokenSigner, db: Kysely<Database>, now: () => Date, services: AuthorizedServices): Authenticator {
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
    const service = authorizedServiceOf(checked.token, services.allowed, services.keyOf);
    if (service === undefined) return { refusal: 'the token names a service that is not authorized to carry it, or its service signature (bk/bs) does not verify' };
    if (await isRevoked(db, checked.token)) return { refusal: 'the token was revoked (a logout or a password change)' };
    const { serviceSignature: _appended, ...token } = checked.token;
    return { principal: token.principal, token, ...(service ? { authorizedService: service } : {}) };
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
    authorizedService: (req) => outcomes.get(req)?.authorizedService,
  };
}
