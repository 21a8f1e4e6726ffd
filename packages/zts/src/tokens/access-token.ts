/**
 * `POST /oauth2/token` with `grant_type=client_credentials`: an access token
 * (and with `openid`, an ID token) for the roles the caller's service
 * certificate is in. Claims and header as Athenz's AccessToken and IdToken;
 * the access token is bound to the client certificate (RFC 8705 `cnf`
 * `x5t#S256`), so a copied token is useless without the certificate's key.
 * A user with a ZMS user token gets an unbound token for the roles they are in.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ZtsContext } from '../context.ts';
import { invalidRequest, OAuthError } from './oauth-error.ts';
import { parseTokenScope } from './token-scope.ts';
import { domainOf, grantedRoles, tokenLifetimeSeconds } from './token-roles.ts';

/** The caller of the token endpoints: an mTLS client, or a user with a ZMS user token. */
export interface TokenCaller {
  /** CN of the verified client certificate, or the user of a principal token. */
  principal?: string;
  /** base64url SHA-256 of the client certificate's DER. */
  certThumbprint?: string;
  /** Lower-case hex serial of the client certificate. */
  certSerial?: string;
}

/** Athenz's AccessTokenResponse. */
export interface AccessTokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
  id_token?: string;
}

/** Refuses an unknown caller, a role certificate or a revoked one (RFC 6749 invalid_client). */
export function requireCaller(ctx: ZtsContext, caller: TokenCaller): { principal: string; certThumbprint?: string } {
  if (!caller.principal) {
    throw new OAuthError(401, 'invalid_client', `Unauthenticated request: connect with your service certificate as the TLS client certificate (e.g. /var/lib/sia/certs/<domain>.<service>.cert.pem and its key)${ctx.config.principalTokens ? ', or send a ZMS user token in Athenz-Principal-Auth' : ''}`);
  }
  if (caller.principal.includes(':role.')) {
    throw new OAuthError(401, 'invalid_client', 'Role Identity not authorized for token requests: connect with the service certificate, not a role certificate');
  }
  if (caller.certSerial && ctx.revocations.isRevoked(caller.certSerial)) {
    throw new OAuthError(401, 'invalid_client', `The client certificate (serial ${caller.certSerial}) is revoked: the instance must register again to get a new certificate`);
  }
  return { principal: caller.principal, ...(caller.certThumbprint ? { certThumbprint: caller.certThumbprint } : {}) };
}

function expiresIn(form: URLSearchParams): number | undefined {
  const v = form.get('expires_in');
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw invalidRequest(`Invalid expires_in "${v}": give the lifetime in whole seconds, e.g. expires_in=3600`);
  return n;
}

export async function issueAccessToken(ctx: ZtsContext, caller: TokenCaller, form: URLSearchParams): Promise<AccessTokenResponse> {
  const grant = form.get('grant_type')?.toLowerCase();
  if (!grant) throw invalidRequest('Invalid request: no grant type provided; send grant_type=client_credentials');
  if (grant !== 'client_credentials') {
    throw new OAuthError(400, 'unsupported_grant_type', `Invalid grant request: ${grant}; this ZTS issues tokens for grant_type=client_credentials`);
  }
  const { principal, certThumbprint } = requireCaller(ctx, caller);
  const scope = parseTokenScope(form.get('scope') ?? undefined);
  const requestedSeconds = expiresIn(form);
  const proxyFor = form.get('proxy_for_principal');
  if (proxyFor) throw new OAuthError(403, 'unauthorized_client', `Principal: ${principal} not authorized for proxy access token request`);

  const data = domainOf(ctx, scope.domain);
  const roles = grantedRoles(ctx, data, principal, scope.roles);
  const lifetime = tokenLifetimeSeconds(ctx, data, requestedSeconds);
  const iat = Math.floor(ctx.now().getTime() / 1000);
  const issuer = ctx.config.tokenIssuer ?? '';
  const key = ctx.tokenKeys.current;
  const roleInAud = form.get('role_in_aud_claim') === 'true' && roles.length === 1;

  const access = await new SignJWT({
    ver: 1,
    aud: roleInAud ? `${scope.domain}:${roles[0]}` : scope.domain,
    auth_time: iat,
    scp: roles,
    scope: roles.join(' '),
    uid: principal,
    client_id: principal,
    // Bound to the client certificate; a user's token (no certificate) is a plain bearer token, as in Athenz.
    ...(certThumbprint ? { cnf: { 'x5t#S256': certThumbprint } } : {}),
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
    .setSubject(principal)
    .setJti(randomUUID())
    .setIssuer(issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetime)
    .sign(key.privateKey);

  const res: AccessTokenResponse = { access_token: access, token_type: 'Bearer', expires_in: lifetime };
  if (scope.openid) {
    res.id_token = await new SignJWT({ ver: 1, auth_time: iat })
      .setProtectedHeader({ alg: key.alg, kid: key.kid })
      .setSubject(principal)
      .setAudience(`${scope.domain}.${scope.service}`)
      .setIssuer(issuer)
      .setIssuedAt(iat)
      .setExpirationTime(iat + Math.min(lifetime, ctx.config.idTokenMaxSeconds))
      .sign(key.privateKey);
  }
  // As Athenz: the granted scope is returned when all roles were asked for, or not every requested role was granted.
  if (scope.allRoles || (scope.roles && scope.roles.length !== roles.length)) {
    res.scope = [...roles.map((r) => `${scope.domain}:role.${r}`), ...(scope.openid ? ['openid'] : [])].join(' ');
  }
  return res;
}
