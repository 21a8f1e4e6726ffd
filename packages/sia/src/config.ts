/**
 * Who this workload is and how siad behaves, from the first of: the
 * `sia_config` file, the ATHENZ_SIA_* environment, the workload's IAM role
 * name `<domain>.<service>-service`. Pure: the file text, the environment and
 * the role lookup are passed in.
 */
import { isAbsolute, join } from 'node:path';
import type { KeyAlgorithm } from '@tessera/core/x509/keys';
import { isSimpleName } from '@tessera/core/names';
import { parseAccessTokens, parseStoreTokenOption, TokenConfigError, type AccessTokenConfig, type StoreTokenOption } from './access-tokens.ts';

/** A configuration that cannot work; retrying does not help (the daemon exits). */
export class ConfigError extends Error {}

export interface ServiceConfig {
  /** The service name without the domain. */
  name: string;
  keyFile: string;
  certFile: string;
  user?: string;
  group?: string;
  /** Requested certificate lifetime in minutes; 0 lets ZTS decide. */
  expiryMins: number;
}

export interface RoleConfig {
  /** `<domain>:role.<role>`. */
  name: string;
  domain: string;
  role: string;
  certFile: string;
  /** Where the role key goes with generate_role_key. */
  keyFile: string;
  expiryMins: number;
  /** The configured service whose certificate authenticates the request. */
  service: string;
  user?: string;
  group?: string;
}

export interface SiaConfig {
  domain: string;
  account: string;
  /** The primary service: the one whose signer becomes certs/ca.cert.pem. */
  service: string;
  /** The primary first. */
  services: ServiceConfig[];
  roles: RoleConfig[];
  rolePath?: string;
  omitDomain: boolean;
  regionalSts: boolean;
  /** Attest with an STS GetWebIdentityToken JWT (Athenz `aws_web_identity`), falling back to STS credentials. */
  awsWebIdentity: boolean;
  /** Its audience; ZTS's URL when unset. */
  awsWebIdentityAudience?: string;
  awsWebIdentitySigningAlgorithm: 'RS256' | 'ES384';
  rotateKey: boolean;
  generateRoleKey: boolean;
  keyType: KeyAlgorithm;
  sanDnsWildcard: boolean;
  sanDnsCnames: string[];
  spiffeTrustDomain?: string;
  user?: string;
  group?: string;
  fileDirectUpdate: boolean;
  /** Minutes; fractions allowed (a Tessera extension, for tests and short-lived certificates). */
  refreshIntervalMinutes: number;
  /** Health endpoint port; 0 = off. */
  httpPort: number;
  runAfter?: string;
  runAfterCertsErr?: string;
  keyDir: string;
  certDir: string;
  backupDir: string;
  /** Access tokens to keep fresh (`access_tokens`), under tokenDir. */
  accessTokens: AccessTokenConfig[];
  tokenDir: string;
  /** What a token file holds (Athenz's store_token_option). */
  storeTokenOption: StoreTokenOption;
  /** Where the identity came from, for the log. */
  source: string;
  /** Settings that were given but that this siad does not act on. */
  warnings: string[];
}

export interface WorkloadRole {
  /** The role's name without its path, e.g. `sports.api-service`. */
  name: string;
  account: string;
  /** The IAM role ARN (`arn:aws:iam::<acct>:role/[<path>/]<name>`). */
  arn: string;
}

export interface ConfigInputs {
  configPath: string;
  /** The file's text; undefined when it does not exist. */
  fileText?: string;
  env: Record<string, string | undefined>;
  siaDir: string;
  /** The workload's own IAM role, asked only when the configuration needs it. */
  workloadRole: () => Promise<WorkloadRole>;
}

/** `sports.api-service` (or `sports.api-service@profile`) → sports / api: strip `-service`, split at the last dot. */
export function identityFromRoleName(roleName: string): { domain: string; service: string } | undefined {
  const name = roleName.split('@')[0];
  if (!name.endsWith('-service')) return undefined;
  return splitDomainService(name.slice(0, -'-service'.length));
}

function splitDomainService(name: string): { domain: string; service: string } | undefined {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return undefined;
  return { domain: name.slice(0, dot), service: name.slice(dot + 1) };
}

/**
 * `arn:aws:iam::<acct>:role/[<path>/]<domain>.<service>` → account, path, domain, service.
 * Unlike Athenz, a role path is split off instead of becoming part of the domain.
 */
export function parseIamRoleArn(arn: string): { account: string; path?: string; name: string } | undefined {
  const m = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(arn);
  if (!m) return undefined;
  const parts = m[2].split('/');
  const name = parts.pop()!;
  if (!name) return undefined;
  return { account: m[1], name, ...(parts.length > 0 ? { path: parts.join('/') } : {}) };
}

type Raw = Record<string, unknown>;

function where(source: string, key: string): string {
  return `${source}: ${key}`;
}

function str(o: Raw, key: string, source: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new ConfigError(`${where(source, key)} must be a string`);
  return v;
}

function bool(o: Raw, key: string, source: string): boolean {
  const v = o[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new ConfigError(`${where(source, key)} must be true or false`);
  return v;
}

function num(o: Raw, key: string, source: string, integer = true): number {
  const v = o[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || v < 0 || (integer && !Number.isInteger(v))) {
    throw new ConfigError(`${where(source, key)} must be a ${integer ? 'whole ' : ''}number of at least 0`);
  }
  return v;
}

function obj(o: Raw, key: string, source: string): Raw | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${where(source, key)} must be a JSON object`);
  return v as Raw;
}

const envTrue = (v: string | undefined) => v === 'true' || v === '1';

function envNumber(v: string | undefined, integer = true): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  // As Athenz: a value that does not parse, or is not positive, is ignored.
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) return undefined;
  return n;
}

function keyType(v: string | undefined, source: string): KeyAlgorithm {
  if (v === undefined || v === '' || v === 'rsa') return 'rsa';
  if (v === 'ec' || v === 'ecdsa') return 'ec';
  throw new ConfigError(`${source}: key_type must be "rsa" (RSA 2048, the default) or "ec" (ECDSA P-256), not "${v}"`);
}

function signingAlgorithm(v: string | undefined, source: string): 'RS256' | 'ES384' {
  if (v === undefined || v === '' || v === 'ES384') return 'ES384';
  if (v === 'RS256') return 'RS256';
  throw new ConfigError(`${source}: aws_web_identity_signing_algorithm must be "ES384" (the default) or "RS256", not "${v}"`);
}

/** Settings every source gives: SiaConfig's own fields, and the raw parts that become services, roles and directories. */
type Settings = Pick<
  SiaConfig,
  | 'user' | 'group' | 'rolePath' | 'omitDomain' | 'regionalSts' | 'awsWebIdentity' | 'awsWebIdentitySigningAlgorithm' | 'awsWebIdentityAudience' | 'rotateKey' | 'generateRoleKey' | 'keyType' | 'sanDnsWildcard'
  | 'sanDnsCnames' | 'spiffeTrustDomain' | 'fileDirectUpdate' | 'refreshIntervalMinutes' | 'httpPort' | 'runAfter' | 'runAfterCertsErr' | 'warnings'
> &
  Partial<Pick<SiaConfig, 'keyDir' | 'certDir' | 'backupDir' | 'tokenDir'>> & {
    services?: Raw;
    roles?: Raw;
    accessTokens?: unknown;
    storeTokenOption: StoreTokenOption;
    /** The requested lifetime each service inherits, in minutes. */
    expiryMins: number;
  };

const UNSUPPORTED_FILE_KEYS: Record<string, string> = {
  sds_uds_path: 'Envoy SDS',
  drop_privileges: 'dropping privileges (run siad as the user that should own the files instead)',
  run_after_tokens: 'token hooks',
  run_after_tokens_err: 'token hooks',
  sandns_hostname: 'host name SANs',
  hostname_suffix: 'host name SANs',
  san_email_addresses: 'e-mail SANs (ZTS refuses them)',
  role_certs_required: 'role_certs_required (role certificates are fetched right after the service certificates)',
};

function settingsFromFile(c: Raw, source: string): Settings {
  const warnings: string[] = [];
  for (const [key, what] of Object.entries(UNSUPPORTED_FILE_KEYS)) {
    const v = c[key];
    if (v !== undefined && v !== null && v !== false && v !== '' && !(typeof v === 'object' && Object.keys(v).length === 0)) {
      warnings.push(`${source}: ${key} is set but not supported by this siad: ${what}`);
    }
  }
  const refresh = num(c, 'refresh_interval', source, false);
  const cnames = str(c, 'sandns_x509_cnames', source);
  return {
    services: obj(c, 'services', source),
    user: str(c, 'user', source),
    group: str(c, 'group', source),
    rolePath: str(c, 'role_path', source),
    omitDomain: false,
    regionalSts: bool(c, 'regionalsts', source),
    awsWebIdentity: bool(c, 'aws_web_identity', source),
    awsWebIdentityAudience: str(c, 'aws_web_identity_audience', source),
    awsWebIdentitySigningAlgorithm: signingAlgorithm(str(c, 'aws_web_identity_signing_algorithm', source), source),
    rotateKey: bool(c, 'rotate_key', source),
    generateRoleKey: bool(c, 'generate_role_key', source),
    keyType: keyType(str(c, 'key_type', source), source),
    sanDnsWildcard: bool(c, 'sandns_wildcard', source),
    sanDnsCnames: cnames ? cnames.split(',').map((s) => s.trim()).filter(Boolean) : [],
    spiffeTrustDomain: str(c, 'spiffe_trust_domain', source),
    fileDirectUpdate: bool(c, 'file_direct_update', source),
    expiryMins: num(c, 'expiry_time', source),
    refreshIntervalMinutes: refresh > 0 ? refresh : 1440,
    httpPort: num(c, 'http_port', source),
    runAfter: str(c, 'run_after', source),
    runAfterCertsErr: str(c, 'run_after_certs_err', source),
    keyDir: str(c, 'sia_key_dir', source),
    certDir: str(c, 'sia_cert_dir', source),
    backupDir: str(c, 'sia_backup_dir', source),
    tokenDir: str(c, 'sia_token_dir', source),
    accessTokens: c.access_tokens,
    storeTokenOption: tokenSetting(() => parseStoreTokenOption(c.store_token_option, source)),
    warnings,
  };
}

/** A token setting that cannot work ends siad like any other configuration error. */
function tokenSetting<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof TokenConfigError) throw new ConfigError(e.message);
    throw e;
  }
}

const UNSUPPORTED_ENV: Record<string, string> = {
  ATHENZ_SIA_SDS_UDS_PATH: 'Envoy SDS',
  ATHENZ_SIA_DROP_PRIVILEGES: 'dropping privileges',
  ATHENZ_SIA_SANDNS_HOSTNAME: 'host name SANs',
  ATHENZ_SIA_SAN_EMAIL_ADDRESSES: 'e-mail SANs',
};

function settingsFromEnv(env: Record<string, string | undefined>): Settings {
  const e = (name: string) => {
    const v = env[`ATHENZ_SIA_${name}`];
    return v === undefined || v === '' ? undefined : v;
  };
  const warnings: string[] = [];
  for (const [name, what] of Object.entries(UNSUPPORTED_ENV)) {
    if (env[name]) warnings.push(`${name} is set but not supported by this siad: ${what}`);
  }
  let roles: Raw | undefined;
  const rolesJson = e('ACCOUNT_ROLES');
  if (rolesJson) {
    try {
      roles = JSON.parse(rolesJson) as Raw;
    } catch (err) {
      throw new ConfigError(`ATHENZ_SIA_ACCOUNT_ROLES is not valid JSON (${(err as Error).message}); expected {"<domain>:role.<role>": {}}`);
    }
    if (typeof roles !== 'object' || roles === null || Array.isArray(roles)) {
      throw new ConfigError('ATHENZ_SIA_ACCOUNT_ROLES must be a JSON object like {"<domain>:role.<role>": {}}');
    }
  }
  const cnames = e('SANDNS_X509_CNAMES');
  return {
    roles,
    user: e('USER'),
    group: e('GROUP'),
    rolePath: e('ROLE_PATH'),
    omitDomain: envTrue(e('OMIT_DOMAIN')),
    regionalSts: envTrue(e('REGIONAL_STS')),
    awsWebIdentity: envTrue(e('AWS_WEB_IDENTITY')),
    awsWebIdentityAudience: e('AWS_WEB_IDENTITY_AUDIENCE'),
    awsWebIdentitySigningAlgorithm: signingAlgorithm(e('AWS_WEB_IDENTITY_SIGNING_ALGORITHM'), 'ATHENZ_SIA_AWS_WEB_IDENTITY_SIGNING_ALGORITHM'),
    rotateKey: envTrue(e('ROTATE_KEY')),
    generateRoleKey: envTrue(e('GENERATE_ROLE_KEY')),
    keyType: keyType(e('KEY_TYPE'), 'ATHENZ_SIA_KEY_TYPE'),
    sanDnsWildcard: envTrue(e('SANDNS_WILDCARD')),
    sanDnsCnames: cnames ? cnames.split(',').map((s) => s.trim()).filter(Boolean) : [],
    spiffeTrustDomain: e('SPIFFE_TRUST_DOMAIN'),
    fileDirectUpdate: envTrue(e('FILE_DIRECT_UPDATE')),
    expiryMins: envNumber(e('EXPIRY_TIME')) ?? 0,
    refreshIntervalMinutes: envNumber(e('REFRESH_INTERVAL'), false) ?? 1440,
    httpPort: envNumber(e('HTTP_PORT')) ?? 0,
    runAfter: e('RUN_AFTER'),
    runAfterCertsErr: e('RUN_AFTER_CERTS_ERROR'),
    keyDir: e('KEY_DIR'),
    certDir: e('CERT_DIR'),
    backupDir: e('BACKUP_DIR'),
    tokenDir: e('TOKEN_DIR'),
    accessTokens: envJson(e('ACCESS_TOKENS'), 'ATHENZ_SIA_ACCESS_TOKENS', '{"<domain>/<file name>": {"roles": ["<role>"]}}'),
    storeTokenOption: tokenSetting(() => parseStoreTokenOption(e('STORE_TOKEN_OPTION'), 'ATHENZ_SIA_STORE_TOKEN_OPTION')),
    warnings,
  };
}

function envJson(v: string | undefined, name: string, example: string): unknown {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v) as unknown;
  } catch (err) {
    throw new ConfigError(`${name} is not valid JSON (${(err as Error).message}); expected ${example}`);
  }
}

function inDir(dir: string, file: string | undefined, fallback: string): string {
  if (!file) return join(dir, fallback);
  return isAbsolute(file) ? file : join(dir, file);
}

/** Services and roles with their file paths, and Athenz's rules for the key options. */
function assemble(
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

  const accessTokens = tokenSetting(() => parseAccessTokens(s.accessTokens, source, tokenDir, services, id.service));

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
    ...(s.runAfter ? { runAfter: s.runAfter } : {}),
    ...(s.runAfterCertsErr ? { runAfterCertsErr: s.runAfterCertsErr } : {}),
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

async function fromFile(text: string, i: ConfigInputs): Promise<SiaConfig> {
  const source = i.configPath;
  let c: Raw;
  try {
    c = JSON.parse(text) as Raw;
  } catch (e) {
    // Athenz silently falls through to the next source; a broken file is a mistake to report.
    throw new ConfigError(`${source} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new ConfigError(`${source} must hold a JSON object`);
  const service = str(c, 'service', source);
  if (!service) throw new ConfigError(`${source}: "service" is required (the service name, e.g. "api")`);
  const accounts = c.accounts;
  if (!Array.isArray(accounts) || accounts.length === 0) {
    throw new ConfigError(`${source}: "accounts" is required: [{"domain": "<domain>", "account": "<aws-account-id>"}]`);
  }
  let entry = accounts[0] as Raw;
  if (accounts.length > 1) {
    const current = (await i.workloadRole()).account;
    const match = accounts.find((a) => (a as Raw)?.account === current) as Raw | undefined;
    if (!match) throw new ConfigError(`${source}: none of the "accounts" entries is for this workload's AWS account ${current}`);
    entry = match;
  }
  if (typeof entry !== 'object' || entry === null) throw new ConfigError(`${source}: accounts[] entries are JSON objects`);
  const domain = str(entry, 'domain', `${source}: accounts[]`);
  const account = str(entry, 'account', `${source}: accounts[]`);
  if (!domain || !account) throw new ConfigError(`${source}: the accounts[] entry needs "domain" and "account"`);
  const s = settingsFromFile(c, source);
  s.omitDomain = bool(entry, 'omit_domain', `${source}: accounts[]`);
  return assemble(
    s,
    {
      domain,
      service,
      account,
      user: str(entry, 'user', `${source}: accounts[]`),
      group: str(entry, 'group', `${source}: accounts[]`),
      roles: obj(entry, 'roles', `${source}: accounts[]`) ?? {},
    },
    i.siaDir,
    source,
  );
}

/** The three sources in order; the first that names an identity wins. */
export async function resolveConfig(i: ConfigInputs): Promise<SiaConfig> {
  if (i.fileText !== undefined) return fromFile(i.fileText, i);

  const s = settingsFromEnv(i.env);
  const roleArn = i.env.ATHENZ_SIA_IAM_ROLE_ARN;
  if (roleArn) {
    const parsed = parseIamRoleArn(roleArn);
    const id = parsed && splitDomainService(parsed.name);
    if (!parsed || !id) {
      throw new ConfigError(`ATHENZ_SIA_IAM_ROLE_ARN ${roleArn} is not an IAM role ARN like arn:aws:iam::<account>:role/[<path>/]<domain>.<service>`);
    }
    if (parsed.path && !s.rolePath) s.rolePath = parsed.path;
    return assemble(s, { ...id, account: parsed.account }, i.siaDir, 'ATHENZ_SIA_IAM_ROLE_ARN');
  }

  const role = await i.workloadRole();
  const id = identityFromRoleName(role.name);
  if (!id) {
    throw new ConfigError(
      `no identity configured; searched: the config file ${i.configPath} (not found), the variable ATHENZ_SIA_IAM_ROLE_ARN (not set), ` +
        `and the workload's IAM role name ${role.name} (${role.arn}), which does not follow <domain>.<service>-service. ` +
        `Create ${i.configPath}, set ATHENZ_SIA_IAM_ROLE_ARN=arn:aws:iam::<account>:role/<domain>.<service>, or name the role <domain>.<service>-service.`,
    );
  }
  return assemble(s, { ...id, account: role.account }, i.siaDir, `IAM role ${role.name}`);
}
