/** The ATHENZ_SIA_* environment: Athenz's variable names for the same settings. */
import { ConfigError, DEFAULT_HOOK_TIMEOUT_SECONDS, type Raw, type Settings } from './types.ts';
import { envNumber, envTrue, keyType, signingAlgorithm } from './values.ts';
import { parseStoreTokenOption } from './access-tokens.ts';

const UNSUPPORTED_ENV: Record<string, string> = {
  ATHENZ_SIA_DROP_PRIVILEGES: 'dropping privileges',
  ATHENZ_SIA_SANDNS_HOSTNAME: 'host name SANs',
  ATHENZ_SIA_SAN_EMAIL_ADDRESSES: 'e-mail SANs',
};

export function settingsFromEnv(env: Record<string, string | undefined>): Settings {
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
    socket: e('SDS_UDS_PATH'),
    runAfter: e('RUN_AFTER'),
    runAfterCertsErr: e('RUN_AFTER_CERTS_ERROR'),
    runAfterTokens: e('RUN_AFTER_TOKENS'),
    runAfterTokensErr: e('RUN_AFTER_TOKENS_ERROR'),
    runAfterTimeoutSeconds: envNumber(e('RUN_AFTER_TIMEOUT'), false) ?? DEFAULT_HOOK_TIMEOUT_SECONDS,
    keyDir: e('KEY_DIR'),
    certDir: e('CERT_DIR'),
    backupDir: e('BACKUP_DIR'),
    tokenDir: e('TOKEN_DIR'),
    accessTokens: envJson(e('ACCESS_TOKENS'), 'ATHENZ_SIA_ACCESS_TOKENS', '{"<domain>/<file name>": {"roles": ["<role>"]}}'),
    storeTokenOption: parseStoreTokenOption(e('STORE_TOKEN_OPTION'), 'ATHENZ_SIA_STORE_TOKEN_OPTION'),
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

