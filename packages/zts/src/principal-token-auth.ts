/**
 * ZTS's second way to know a caller, as Athenz's default ZTS (its
 * PrincipalAuthority): a ZMS-signed user token in `Athenz-Principal-Auth`,
 * checked with the `sys.auth.zms` public key that ZMS publishes (from the
 * domain snapshots, so it works in a ZTS-only process too), not expired, not
 * revoked (logout, password change), and, when it names authorized services,
 * signed on top by one of them. `--zts-principal-tokens false` turns it off
 * for a certificate-only ZTS.
 */
import type { FastifyRequest } from 'fastify';
import { authorizedServiceOf, serviceKeys, splitToken, verifyUserPart } from '@tessera/core/principal-token';
import { isRevoked } from '@tessera/store/revoked-tokens';
import type { ZtsContext } from './context.ts';

export const PRINCIPAL_AUTH_HEADER = 'athenz-principal-auth';

/** The user a valid principal token names, or undefined (no token, tokens turned off, or a token that does not check out). */
export async function tokenPrincipal(ctx: ZtsContext, req: FastifyRequest): Promise<string | undefined> {
  const raw = req.headers[PRINCIPAL_AUTH_HEADER];
  if (!ctx.config.principalTokens || typeof raw !== 'string' || raw === '') return undefined;
  // Parsed per request: a PEM parse is a few microseconds, and a rotated key is seen at once.
  const keys = serviceKeys((d) => ctx.snapshots.get(d));
  const parts = splitToken(raw);
  const token = parts && verifyUserPart(parts, (keyId) => keys('sys.auth.zms', keyId));
  if (!token || !(token.expires.getTime() > ctx.now().getTime())) return undefined;
  const checked = parts.service ? { ...token, serviceSignature: parts.service } : token;
  if (authorizedServiceOf(checked, ctx.config.authorizedServices, keys) === undefined) return undefined;
  if (await isRevoked(ctx.db, token)) return undefined;
  return token.principal;
}

/** What a refused caller is told: the ways in this ZTS accepts. */
export function authHint(ctx: ZtsContext): string {
  return ctx.config.principalTokens
    ? 'connect with a client certificate issued by this ZTS, or send a ZMS user token in Athenz-Principal-Auth'
    : 'connect with a client certificate issued by this ZTS (this ZTS accepts no user tokens)';
}
