/**
 * Access tokens, as Athenz's SIA fetches them: `access_tokens` in sia_config
 * (or ATHENZ_SIA_ACCESS_TOKENS) maps `<domain>/<file name>` to the roles
 * wanted; each token is requested over mTLS with the service certificate and
 * written to `<token dir>/<domain>/<file name>` (token dir: sia_token_dir,
 * ATHENZ_SIA_TOKEN_DIR, or `<siadir>/tokens`) with mode 0440, the service's
 * owner, atomically, like the certificates.
 *
 * What the file holds follows store_token_option: 0 the whole ZTS response
 * (JSON), 1 the access token as a JSON string (Athenz's default), 2 the bare
 * token. A token is fetched again when half its lifetime has passed, and
 * whenever the service certificate changes: the token is bound to the
 * certificate it was fetched with (cnf x5t#S256).
 */
import type { AccessTokenConfig, StoreTokenOption } from './config/types.ts';

/** Athenz's request body: client_credentials, the scope, expires_in. */
export function tokenRequestBody(t: AccessTokenConfig): string {
  const scope = t.roles[0] === '*' ? `${t.domain}:domain` : t.roles.map((r) => `${t.domain}:role.${r}`).join(' ');
  const p = new URLSearchParams({ grant_type: 'client_credentials', expires_in: String(t.expiresIn), scope });
  if (t.roleInAudClaim) p.set('role_in_aud_claim', 'true');
  return p.toString();
}

export interface TokenResponse {
  access_token: string;
  token_type?: string;
  expires_in?: number;
  scope?: string;
  id_token?: string;
}

export function tokenFileContent(res: TokenResponse, option: StoreTokenOption): string {
  if (option === 0) return JSON.stringify(res);
  if (option === 2) return res.access_token;
  return JSON.stringify(res.access_token);
}

/** The access token in a token file of any store option, or undefined. */
export function tokenInFile(text: string): string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (t.startsWith('{')) {
    try {
      const v = JSON.parse(t) as { access_token?: unknown };
      return typeof v.access_token === 'string' ? v.access_token : undefined;
    } catch {
      return undefined;
    }
  }
  if (t.startsWith('"')) {
    try {
      const v = JSON.parse(t) as unknown;
      return typeof v === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  }
  return t;
}

/** `iat` and `exp` of a JWT, read without verifying it (siad only schedules with them). */
export function tokenTimes(jwt: string): { iat: number; exp: number } | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { iat?: unknown; exp?: unknown };
    return typeof claims.iat === 'number' && typeof claims.exp === 'number' ? { iat: claims.iat, exp: claims.exp } : undefined;
  } catch {
    return undefined;
  }
}

/** When a token file needs fetching again: half way through its lifetime; now when missing or unreadable. */
export function tokenRefreshDue(text: string | undefined): number {
  const jwt = text === undefined ? undefined : tokenInFile(text);
  const times = jwt ? tokenTimes(jwt) : undefined;
  if (!times) return 0;
  return ((times.iat + times.exp) / 2) * 1000;
}
