/**
 * Who is calling: an mTLS client certificate issued by Tessera's CA (principal
 * = CN), or a user token in `Authorization: Bearer` / `Athenz-Principal-Auth`.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { tlsPrincipal } from '@tessera/core/x509/tls-principal';
import type { UserTokenSigner } from './user-tokens.ts';
import { sessionToken } from './browser-session.ts';

export interface Authenticator {
  principal(req: FastifyRequest): string | undefined;
}

export function bearerToken(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const ntoken = req.headers['athenz-principal-auth'];
  return typeof ntoken === 'string' && ntoken !== '' ? ntoken : undefined;
}

export function authenticator(tokens: UserTokenSigner, now: () => Date): Authenticator {
  return {
    principal(req) {
      const token = bearerToken(req) ?? sessionToken(req);
      if (token) return tokens.verify(token, now());
      return tlsPrincipal(req.raw.socket as TLSSocket);
    },
  };
}
