/** The sia_config file: its settings and the identity its `accounts` entry names. */
import { ConfigError, DEFAULT_HOOK_TIMEOUT_SECONDS, type ConfigInputs, type Raw, type SiaConfig, type Settings } from './types.ts';
import { assemble } from './assemble.ts';
import { bool, keyType, num, obj, signingAlgorithm, str } from './values.ts';
import { parseStoreTokenOption } from './access-tokens.ts';

const UNSUPPORTED_FILE_KEYS: Record<string, string> = {
  drop_privileges: 'dropping privileges (run siad as the user that should own the files instead)',
  sandns_hostname: 'host name SANs',
  hostname_suffix: 'host name SANs',
  san_email_addresses: 'e-mail SANs (ZTS refuses them)',
  role_certs_required: 'role_certs_required (role certificates are fetched right after the service certificates)',
};

export function settingsFromFile(c: Raw, source: string): Settings {
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
    socket: str(c, 'sds_uds_path', source),
    runAfter: str(c, 'run_after', source),
    runAfterCertsErr: str(c, 'run_after_certs_err', source),
    runAfterTokens: str(c, 'run_after_tokens', source),
    runAfterTokensErr: str(c, 'run_after_tokens_err', source),
    runAfterTimeoutSeconds: num(c, 'run_after_timeout', source, false) || DEFAULT_HOOK_TIMEOUT_SECONDS,
    keyDir: str(c, 'sia_key_dir', source),
    certDir: str(c, 'sia_cert_dir', source),
    backupDir: str(c, 'sia_backup_dir', source),
    tokenDir: str(c, 'sia_token_dir', source),
    accessTokens: c.access_tokens,
    storeTokenOption: parseStoreTokenOption(c.store_token_option, source),
    warnings,
  };
}


export async function fromFile(text: string, i: ConfigInputs): Promise<SiaConfig> {
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
    const current = await i.workloadAccount();
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
