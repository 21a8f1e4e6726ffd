/** The assembly: services, roles and tokens with their file paths, from one source's settings and the identity. */
import { isAbsolute, join } from 'node:path';
import { ConfigError, type Raw, type RoleConfig, type ServiceConfig, type Settings, type SiaConfig } from './types.ts';
import { isSimpleName } from '@tessera/core/names';
import { num, str } from './values.ts';
import { parseAccessTokens } from './access-tokens.ts';

function inDir(dir: string, file: string | undefined, fallback: string): string {
  if (!file) return join(dir, fallback);
  return isAbsolute(file) ? file : join(dir, file);
}

/** Services and roles with their file paths, and Athenz's rules for the key options. */
export function assemble(
  s: Settings,
  id: { domain: string; service: string; account: string; user?: string; group?: string; roles?: Raw },
  siaDir: string,
  source: string,
): SiaConfig {
  const keyDir = s.keyDir ?? join(siaDir, 'keys');
  const certDir = s.certDir ?? join(siaDir, 'certs');
  const backupDir = s.backupDir ?? join(siaDir, 'backup');
  const tokenDir = s.tokenDir ?? join(siaDir, 'tokens');
  const warnings = [...s.warnings];

  const serviceEntries: [string, Raw][] = [[id.service, (s.services?.[id.service] as Raw | undefined) ?? {}]];
  if (s.services) {
    if (!(id.service in s.services)) throw new ConfigError(`${source}: "services" must include the primary service "${id.service}"`);
    for (const [name, v] of Object.entries(s.services)) if (name !== id.service) serviceEntries.push([name, (v ?? {}) as Raw]);
  }
  const services: ServiceConfig[] = serviceEntries.map(([name, v], i) => {
    const where = `${source}: services.${name}`;
    if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${where} must be a JSON object`);
    if (!isSimpleName(name)) throw new ConfigError(`${where}: "${name}" is not a valid service name`);
    return {
      name,
      keyFile: inDir(keyDir, str(v, 'key_filename', where), `${id.domain}.${name}.key.pem`),
      certFile: inDir(certDir, str(v, 'cert_filename', where), `${id.domain}.${name}.cert.pem`),
      // The primary service falls back to the account's owner, as in Athenz.
      user: str(v, 'user', where) ?? (i === 0 ? id.user : undefined) ?? s.user,
      group: str(v, 'group', where) ?? (i === 0 ? id.group : undefined) ?? s.group,
      expiryMins: num(v, 'expiry_time', where) || s.expiryMins,
    };
  });

  const accessTokens = parseAccessTokens(s.accessTokens, source, tokenDir, services, id.service);

  let absoluteRoleFile = false;
  const roles: RoleConfig[] = Object.entries(id.roles ?? s.roles ?? {}).map(([name, raw]) => {
    const where = `${source}: roles "${name}"`;
    const v = (raw ?? {}) as Raw;
    if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${where} must be a JSON object`);
    const m = /^([^:]+):role\.(.+)$/.exec(name);
    if (!m) throw new ConfigError(`${where}: a role is named <domain>:role.<role>`);
    const filename = str(v, 'filename', where);
    if (filename && isAbsolute(filename)) absoluteRoleFile = true;
    const certFile = inDir(certDir, filename, `${name}.cert.pem`);
    const base = filename ? filename.replace(/^.*\//, '').replace(/\.cert\.pem$/, '') : name;
    let service = str(v, 'service', where) ?? id.service;
    if (!services.some((x) => x.name === service)) {
      warnings.push(`${where}: service ${service} is not configured; using ${id.service}`);
      service = id.service;
    }
    return {
      name,
      domain: m[1],
      role: m[2],
      certFile,
      keyFile: join(keyDir, `${base}.key.pem`),
      expiryMins: num(v, 'expiry_time', where),
      service,
      user: str(v, 'user', where) ?? services[0].user,
      group: str(v, 'group', where) ?? services[0].group,
    };
  });

  let { rotateKey, generateRoleKey } = s;
  // Athenz's rule: a rotated service key would no longer match role certificates issued for it.
  if ((rotateKey || generateRoleKey) && absoluteRoleFile) {
    warnings.push('rotate_key and generate_role_key are off: a role certificate has an absolute file name');
    rotateKey = generateRoleKey = false;
  } else if (rotateKey && roles.length > 0 && !generateRoleKey) {
    warnings.push('rotate_key is off: role certificates use the service key, so it must not change (set generate_role_key to rotate keys)');
    rotateKey = false;
  }

  return {
    domain: id.domain,
    account: id.account,
    service: id.service,
    services,
    roles,
    ...(s.rolePath ? { rolePath: s.rolePath.replace(/^\/+|\/+$/g, '') } : {}),
    omitDomain: s.omitDomain,
    regionalSts: s.regionalSts,
    awsWebIdentity: s.awsWebIdentity,
    ...(s.awsWebIdentityAudience ? { awsWebIdentityAudience: s.awsWebIdentityAudience } : {}),
    awsWebIdentitySigningAlgorithm: s.awsWebIdentitySigningAlgorithm,
    rotateKey,
    generateRoleKey,
    keyType: s.keyType,
    sanDnsWildcard: s.sanDnsWildcard,
    sanDnsCnames: s.sanDnsCnames,
    ...(s.spiffeTrustDomain ? { spiffeTrustDomain: s.spiffeTrustDomain } : {}),
    ...(id.user ?? s.user ? { user: id.user ?? s.user } : {}),
    ...(id.group ?? s.group ? { group: id.group ?? s.group } : {}),
    fileDirectUpdate: s.fileDirectUpdate,
    refreshIntervalMinutes: s.refreshIntervalMinutes,
    httpPort: s.httpPort,
    ...(s.socket ? { socket: s.socket } : {}),
    ...(s.runAfter ? { runAfter: s.runAfter } : {}),
    ...(s.runAfterCertsErr ? { runAfterCertsErr: s.runAfterCertsErr } : {}),
    ...(s.runAfterTokens ? { runAfterTokens: s.runAfterTokens } : {}),
    ...(s.runAfterTokensErr ? { runAfterTokensErr: s.runAfterTokensErr } : {}),
    runAfterTimeoutSeconds: s.runAfterTimeoutSeconds,
    keyDir,
    certDir,
    backupDir,
    accessTokens,
    tokenDir,
    storeTokenOption: s.storeTokenOption,
    source,
    warnings,
  };
}

