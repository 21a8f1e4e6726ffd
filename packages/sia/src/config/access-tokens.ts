/** Athenz's `access_tokens` and `store_token_option` settings. */
import { join } from 'node:path';
import { ConfigError, type AccessTokenConfig, type Raw, type ServiceConfig, type StoreTokenOption } from './types.ts';

export const DEFAULT_TOKEN_EXPIRY_SECONDS = 28_800;

/** Parses Athenz's `access_tokens` object. */
export function parseAccessTokens(raw: unknown, source: string, tokenDir: string, services: ServiceConfig[], primary: string): AccessTokenConfig[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${source}: access_tokens must be a JSON object like {"<domain>/<file name>": {"roles": ["<role>"]}}`);
  return Object.entries(raw as Raw).map(([name, value]) => {
    const where = `${source}: access_tokens "${name}"`;
    const [domain, file, ...rest] = name.split('/');
    if (!domain?.trim() || !file?.trim() || rest.length > 0) throw new ConfigError(`${where}: the key is <domain>/<file name>, e.g. "sports/readers"`);
    const v = (value ?? {}) as Raw;
    if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${where} must be a JSON object`);
    const roles = v.roles === undefined ? [file] : v.roles;
    if (!Array.isArray(roles) || roles.length === 0 || roles.some((r) => typeof r !== 'string' || r === '')) {
      throw new ConfigError(`${where}: roles must be a list of role names, e.g. ["readers"] (or ["*"] for every role)`);
    }
    const expiresIn = v.expires_in === undefined ? DEFAULT_TOKEN_EXPIRY_SECONDS : v.expires_in;
    if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn <= 0) throw new ConfigError(`${where}: expires_in must be whole seconds`);
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
  throw new ConfigError(`${source}: store_token_option must be 0 (the whole ZTS response), 1 (the token as a JSON string) or 2 (the bare token)`);
}
