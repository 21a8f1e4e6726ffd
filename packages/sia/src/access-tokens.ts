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
import { join } from 'node:path';
import type { ServiceConfig } from './config.ts';

export interface AccessTokenConfig {
  /** `<domain>/<file name>`, as configured. */
  name: string;
  domain: string;
  roles: string[];
  /** The configured service whose certificate asks. */
  service: string;
  /** Requested lifetime in seconds (Athenz's default: 8 hours). */
  expiresIn: number;
  file: string;
  roleInAudClaim: boolean;
  user?: string;
  group?: string;
}

export type StoreTokenOption = 0 | 1 | 2;

export const DEFAULT_TOKEN_EXPIRY_SECONDS = 28_800;

type Raw = Record<string, unknown>;

/** Thrown for settings that cannot work; the caller wraps it in its ConfigError. */
export class TokenConfigError extends Error {}

/** Parses Athenz's `access_tokens` object. */
export function parseAccessTokens(raw: unknown, source: string, tokenDir: string, services: ServiceConfig[], primary: string): AccessTokenConfig[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new TokenConfigError(`${source}: access_tokens must be a JSON object like {"<domain>/<file name>": {"roles": ["<role>"]}}`);
  return Object.entries(raw as Raw).map(([name, value]) => {
    const where = `${source}: access_tokens "${name}"`;
    const [domain, file, ...rest] = name.split('/');
    if (!domain?.trim() || !file?.trim() || rest.length > 0) throw new TokenConfigError(`${where}: the key is <domain>/<file name>, e.g. "sports/readers"`);
    const v = (value ?? {}) as Raw;
    if (typeof v !== 'object' || Array.isArray(v)) throw new TokenConfigError(`${where} must be a JSON object`);
    const roles = v.roles === undefined ? [file] : v.roles;
    if (!Array.isArray(roles) || roles.length === 0 || roles.some((r) => typeof r !== 'string' || r === '')) {
      throw new TokenConfigError(`${where}: roles must be a list of role names, e.g. ["readers"] (or ["*"] for every role)`);
    }
    const expiresIn = v.expires_in === undefined ? DEFAULT_TOKEN_EXPIRY_SECONDS : v.expires_in;
    if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn <= 0) throw new TokenConfigError(`${where}: expires_in must be whole seconds`);
    let service = typeof v.service === 'string' && v.service ? v.service : primary;
    // As Athenz: an unknown service falls back to the primary one.
    if (!services.some((s) => s.name === service)) service = primary;
    const svc = services.find((s) => s.name === service)!;
    return {
      name,
      domain,
      roles: roles as string[],
      service,
      expiresIn,
      file: join(tokenDir, domain, file),
      roleInAudClaim: v.role_in_aud_claim === true,
      ...(svc.user ? { user: svc.user } : {}),
      ...(svc.group ? { group: svc.group } : {}),
    };
  });
}

export function parseStoreTokenOption(v: unknown, source: string): StoreTokenOption {
  if (v === undefined || v === null || v === '') return 1;
  const n = Number(v);
  if (n === 0 || n === 1 || n === 2) return n;
  throw new TokenConfigError(`${source}: store_token_option must be 0 (the whole ZTS response), 1 (the token as a JSON string) or 2 (the bare token)`);
}

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
