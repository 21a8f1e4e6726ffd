/**
 * Which identity this workload is: `sia_config`, then ATHENZ_SIA_* variables,
 * then the workload's IAM role name `<domain>.<service>-service`.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface IdentityConfig {
  domain: string;
  service: string;
  account?: string;
  rolePath?: string;
  /** Role certificates to fetch: `<domain>:role.<role>` names. */
  roles: string[];
  source: string;
}

/** `sports.api-service` → sports / api (strip `-service`, split at the last dot). */
export function identityFromRoleName(role: string): { domain: string; service: string } | undefined {
  const name = role.endsWith('-service') ? role.slice(0, -'-service'.length) : role;
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return undefined;
  return { domain: name.slice(0, dot), service: name.slice(dot + 1) };
}

export function configFromFile(path: string): IdentityConfig | undefined {
  if (!existsSync(path)) return undefined;
  let c: { service?: string; role_path?: string; accounts?: { domain?: string; service?: string; account?: string; roles?: Record<string, unknown> }[] };
  try {
    c = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  const account = c.accounts?.[0];
  const service = c.service ?? account?.service;
  if (!account?.domain || !service) throw new Error(`${path}: needs "service" and "accounts": [{"domain": ..., "account": ...}]`);
  return {
    domain: account.domain,
    service,
    ...(account.account ? { account: account.account } : {}),
    ...(c.role_path ? { rolePath: c.role_path } : {}),
    roles: Object.keys(account.roles ?? {}),
    source: path,
  };
}

export function configFromEnv(env: NodeJS.ProcessEnv): IdentityConfig | undefined {
  const domain = env.ATHENZ_SIA_DOMAIN_NAME;
  const service = env.ATHENZ_SIA_SERVICE_NAME;
  if (!domain || !service) return undefined;
  return {
    domain,
    service,
    ...(env.ATHENZ_SIA_ACCOUNT ? { account: env.ATHENZ_SIA_ACCOUNT } : {}),
    ...(env.ATHENZ_SIA_ROLE_PATH ? { rolePath: env.ATHENZ_SIA_ROLE_PATH } : {}),
    roles: (env.ATHENZ_SIA_ROLES ?? '').split(',').filter(Boolean),
    source: 'ATHENZ_SIA_* environment',
  };
}
