/** Settings of `tessera serve`: flags win over TESSERA_* environment variables, which win over defaults. */
import { join, resolve } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { defaultZmsConfig, type ZmsConfig } from '@tessera/zms/config';
import { defaultZtsConfig, parseAttestationMethods, type ZtsConfig } from '@tessera/zts/config';
import { splitPemBundle } from '@tessera/core/x509/certificate';
import { isServiceName, splitServiceName } from '@tessera/core/names';
import { defaultProviders, parseProviders, type ProviderConfig } from '@tessera/ui/app/providers';
import type { CaSettings } from './tls-material.ts';
import { parseLogFormat, type LogFormat } from './logging.ts';

export interface ServerConfig {
  dataDir: string;
  /** SQLite file path or postgresql:// URL. */
  db: string;
  host: string;
  zmsPort: number;
  ztsPort: number;
  logLevel: string;
  /** Server processes sharing the ports (node:cluster); 1 runs everything in this process. */
  workers: number;
  /** How often each process reads the store's change feed (ms); on PostgreSQL a notification reads it at once. */
  snapshotPollMs: number;
  /** Audit rows older than this many days are deleted (docs/store.md, "Retention"). */
  auditRetentionDays: number;
  /**
   * Where the process LISTENs for change notifications (PostgreSQL): `off`, or a
   * postgresql:// URL (PostgreSQL itself when `db` goes through a pooler in
   * transaction mode); default: `db`.
   */
  dbListen?: string;
  /** json, or pretty (readable lines); default: pretty on a terminal, JSON otherwise. */
  logFormat?: LogFormat;
  /** Write the log to this file instead of stdout. */
  logFile?: string;
  /** Run only one service in this process (several processes share one PostgreSQL). */
  only?: 'zms' | 'zts';
  zms: ZmsConfig;
  zts: ZtsConfig;
  ca: CaSettings;
  /** The identity providers the web UI's Services tab offers. */
  uiProviders: ProviderConfig[];
  /** Token signing keys (shared by replicas, like the CA). */
  tokenKeysDir: string;
  /** From TESSERA_ADMIN_PASSWORD; used on first start only. */
  adminPassword?: string;
}

/** Defaults that depend on how the program was started (the build or the sources). */
export interface ServeDefaults {
  workers?: number;
}

export interface ServeFlags {
  only?: string;
  workers?: string;
  snapshotPollMs?: string;
  dbListen?: string;
  auditRetentionDays?: string;
  dataDir?: string;
  db?: string;
  host?: string;
  zmsPort?: string;
  ztsPort?: string;
  logLevel?: string;
  logFormat?: string;
  logFile?: string;
  awsRegions?: string;
  awsDnsSuffix?: string;
  awsRegion?: string;
  awsStsEndpoint?: string;
  awsIamEndpoint?: string;
  awsOidcEndpoint?: string;
  attestationMethods?: string;
  attestationAudience?: string;
  awsOidcReaderRole?: string;
  awsOrgAllowList?: string;
  awsDocumentCert?: string;
  ec2BootWindow?: string;
  refreshRetryGrace?: string;
  certAllowedO?: string;
  caKeyAlg?: string;
  caCert?: string;
  caKey?: string;
  serverNames?: string;
  uiProviders?: string;
  crlUrl?: string;
  tokenIssuer?: string;
  tokenKeysDir?: string;
  authorizedServices?: string;
  corsOrigins?: string;
  ztsPrincipalTokens?: string;
}

function wholeNumber(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${value}"`);
  return n;
}

function readCerts(path: string | undefined): string[] {
  if (!path) return [];
  try {
    const certs = splitPemBundle(readFileSync(path, 'utf8'));
    if (certs.length === 0) throw new Error('no PEM certificate in it');
    for (const pem of certs) new X509Certificate(pem); // unusable certificates fail here, not at request time
    return certs;
  } catch (e) {
    throw new Error(`AWS identity document certificate file ${path}: ${(e as Error).message}`);
  }
}

function readUiProviders(path: string | undefined, region: string): ProviderConfig[] {
  if (!path) return defaultProviders(region);
  try {
    return parseProviders(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new Error(`UI providers file ${path}: ${(e as Error).message}`);
  }
}

function httpsUrl(value: string | undefined, name: string): string | undefined {
  if (!value) return undefined;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new Error(`${name} must be a URL, got "${value}"`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`${name} must be an http(s) URL, got "${value}"`);
  return value.replace(/\/+$/, '');
}
const optional = <K extends string, V>(key: K, value: V | undefined) => (value ? { [key]: value } : {}) as Partial<Record<K, V>>;

const list = (value: string | undefined) => value?.split(',').map((s) => s.trim()).filter(Boolean);

function onOff(value: string | undefined, name: string, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`${name} takes true or false, got "${value}"`);
}

/** Full service names (`athenz.ui-server`), lower-cased as ZMS keeps them. */
function serviceNames(value: string | undefined): string[] {
  return (list(value) ?? []).map((name) => {
    const service = name.toLowerCase();
    if (!isServiceName(service) || !splitServiceName(service)) {
      throw new Error(`--authorized-services takes full service names (<domain>.<service>, e.g. athenz.ui-server), got "${name}"`);
    }
    return service;
  });
}

/** Web origins as browsers send them: scheme://host[:port], nothing else. */
function origins(value: string | undefined): string[] {
  return (list(value) ?? []).map((origin) => {
    let u: URL | undefined;
    try {
      u = new URL(origin);
    } catch {
      // reported below
    }
    if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.origin !== origin) {
      throw new Error(`--cors-origins takes origins such as https://ui.example.com:3000 (scheme, host and port; no path or trailing slash), got "${origin}"`);
    }
    return origin;
  });
}

function port(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number (0-65535), got "${value}"`);
  return n;
}

function workerCount(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`--workers must be a whole number from 1 to 256, got "${value}"`);
  return n;
}

function dbListen(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value !== 'off' && !/^postgres(ql)?:\/\//i.test(value)) throw new Error('--db-listen takes off or a postgresql:// URL');
  return value;
}

function auditDays(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 36_500) throw new Error(`--audit-retention-days must be a whole number of days from 1 to 36500, got "${value}"`);
  return n;
}

function pollInterval(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 10 || n > 3_600_000) throw new Error(`--snapshot-poll-ms must be a whole number of milliseconds from 10 to 3600000, got "${value}"`);
  return n;
}

export function serverConfig(flags: ServeFlags, env: NodeJS.ProcessEnv, defaults: ServeDefaults = {}): ServerConfig {
  const dataDir = resolve(flags.dataDir ?? env.TESSERA_DATA_DIR ?? '.tessera');
  const regions = flags.awsRegions ?? env.TESSERA_AWS_REGIONS;
  const only = flags.only ?? env.TESSERA_ONLY;
  if (only !== undefined && only !== 'zms' && only !== 'zts') throw new Error(`--only takes zms or zts, got "${only}"`);
  const caAlg = flags.caKeyAlg ?? env.TESSERA_CA_KEY_ALG ?? 'ec';
  if (caAlg !== 'ec' && caAlg !== 'rsa') throw new Error(`--ca-key-alg takes ec or rsa, got "${caAlg}"`);
  const caCert = flags.caCert ?? env.TESSERA_CA_CERT;
  const caKey = flags.caKey ?? env.TESSERA_CA_KEY;
  if (!!caCert !== !!caKey) throw new Error('--ca-cert and --ca-key go together');
  const awsRegions = regions ? regions.split(',').map((r) => r.trim()).filter(Boolean) : defaultZmsConfig.awsRegions;
  const dnsSuffix = flags.awsDnsSuffix ?? env.TESSERA_AWS_DNS_SUFFIX ?? defaultZmsConfig.awsDnsSuffix;
  const authorizedServices = serviceNames(flags.authorizedServices ?? env.TESSERA_AUTHORIZED_SERVICES);
  return {
    dataDir,
    db: flags.db ?? env.TESSERA_DB ?? join(dataDir, 'tessera.db'),
    host: flags.host ?? env.TESSERA_HOST ?? '127.0.0.1',
    zmsPort: port(flags.zmsPort ?? env.TESSERA_ZMS_PORT ?? '4443', 'ZMS port'),
    ztsPort: port(flags.ztsPort ?? env.TESSERA_ZTS_PORT ?? '8443', 'ZTS port'),
    logLevel: flags.logLevel ?? env.TESSERA_LOG_LEVEL ?? 'info',
    workers: workerCount(flags.workers ?? env.TESSERA_WORKERS, defaults.workers ?? 1),
    ...optional('dbListen', dbListen(flags.dbListen ?? env.TESSERA_DB_LISTEN)),
    auditRetentionDays: auditDays(flags.auditRetentionDays ?? env.TESSERA_AUDIT_RETENTION_DAYS ?? '400'),
    snapshotPollMs: pollInterval(flags.snapshotPollMs ?? env.TESSERA_SNAPSHOT_POLL_MS ?? '1000'),
    ...optional('logFormat', parseLogFormat(flags.logFormat ?? env.TESSERA_LOG_FORMAT)),
    ...optional('logFile', flags.logFile ?? env.TESSERA_LOG_FILE),
    ...(only ? { only } : {}),
    zms: {
      ...defaultZmsConfig,
      awsRegions,
      awsDnsSuffix: dnsSuffix,
      authorizedServices,
      corsOrigins: origins(flags.corsOrigins ?? env.TESSERA_CORS_ORIGINS),
    },
    ca: { alg: caAlg, ...(caCert && caKey ? { certFile: caCert, keyFile: caKey } : {}), ...optional('serverNames', list(flags.serverNames ?? env.TESSERA_SERVER_NAMES)) },
    zts: {
      ...defaultZtsConfig,
      awsRegion: flags.awsRegion ?? env.TESSERA_AWS_REGION ?? defaultZtsConfig.awsRegion,
      stsEndpoint: flags.awsStsEndpoint ?? env.TESSERA_AWS_STS_ENDPOINT ?? env.AWS_ENDPOINT_URL_STS,
      ...optional('iamEndpoint', flags.awsIamEndpoint ?? env.TESSERA_AWS_IAM_ENDPOINT ?? env.AWS_ENDPOINT_URL_IAM),
      ...optional('oidcEndpoint', httpsUrl(flags.awsOidcEndpoint ?? env.TESSERA_AWS_OIDC_ENDPOINT, '--aws-oidc-endpoint')),
      attestationMethods: parseAttestationMethods(flags.attestationMethods ?? env.TESSERA_ATTESTATION_METHODS ?? ''),
      ...optional('attestationAudience', flags.attestationAudience ?? env.TESSERA_ATTESTATION_AUDIENCE),
      oidcReaderRole: flags.awsOidcReaderRole ?? env.TESSERA_AWS_OIDC_READER_ROLE ?? defaultZtsConfig.oidcReaderRole,
      awsOrgAllowList: list(flags.awsOrgAllowList ?? env.TESSERA_AWS_ORG_ALLOW_LIST) ?? [],
      awsDnsSuffixes: [dnsSuffix],
      awsDocumentCertsPem: readCerts(flags.awsDocumentCert ?? env.TESSERA_AWS_DOCUMENT_CERT),
      refreshRetryGraceSeconds: wholeNumber(flags.refreshRetryGrace ?? env.TESSERA_REFRESH_RETRY_GRACE ?? '0', 'refresh retry grace'),
      certAllowedO: (flags.certAllowedO ?? env.TESSERA_CERT_ALLOWED_O ?? '').split('|').map((o) => o.trim()).filter(Boolean),
      ec2BootWindowSeconds: wholeNumber(flags.ec2BootWindow ?? env.TESSERA_EC2_BOOT_WINDOW ?? String(defaultZtsConfig.ec2BootWindowSeconds), 'EC2 boot window'),
      crlUrl: httpsUrl(flags.crlUrl ?? env.TESSERA_CRL_URL, '--crl-url'),
      tokenIssuer: httpsUrl(flags.tokenIssuer ?? env.TESSERA_TOKEN_ISSUER, '--token-issuer'),
      principalTokens: onOff(flags.ztsPrincipalTokens ?? env.TESSERA_ZTS_PRINCIPAL_TOKENS, '--zts-principal-tokens', defaultZtsConfig.principalTokens),
      authorizedServices,
    },
    tokenKeysDir: resolve(flags.tokenKeysDir ?? env.TESSERA_TOKEN_KEYS_DIR ?? join(dataDir, 'token-keys')),
    uiProviders: readUiProviders(flags.uiProviders ?? env.TESSERA_UI_PROVIDERS, awsRegions[0] ?? 'us-west-2'),
    adminPassword: env.TESSERA_ADMIN_PASSWORD || undefined,
  };
}
