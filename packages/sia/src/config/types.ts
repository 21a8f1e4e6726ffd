/** The shape of siad's configuration, whichever source it came from (file, environment, role name). */
import type { KeyAlgorithm } from '@tessera/core/x509/keys';

/** A configuration that cannot work; retrying does not help (the daemon exits). */
export class ConfigError extends Error {}

/** A hook still running after this long is killed. */
export const DEFAULT_HOOK_TIMEOUT_SECONDS = 60;


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
  /** The Unix socket of the Workload API (Athenz's sds_uds_path); none = off. */
  socket?: string;
  runAfter?: string;
  runAfterCertsErr?: string;
  runAfterTokens?: string;
  runAfterTokensErr?: string;
  /** How long a hook may run before it is killed (Tessera's run_after_timeout, seconds). */
  runAfterTimeoutSeconds: number;
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
  /** On EKS, the pod's projected service-account token for ZTS, if it has one. */
  serviceAccountToken?: string;
  /** The workload's own IAM role, asked only when the configuration needs it. */
  workloadRole: () => Promise<WorkloadRole>;
  /** The workload's AWS account, when only the account is needed (cheaper where the platform says it). */
  workloadAccount: () => Promise<string>;
}

/** A JSON object as read from the file or a variable. */
export type Raw = Record<string, unknown>;

/** Settings every source gives: SiaConfig's own fields, and the raw parts that become services, roles and directories. */
export type Settings = Pick<
  SiaConfig,
  | 'user' | 'group' | 'rolePath' | 'omitDomain' | 'regionalSts' | 'awsWebIdentity' | 'awsWebIdentitySigningAlgorithm' | 'awsWebIdentityAudience' | 'rotateKey' | 'generateRoleKey' | 'keyType' | 'sanDnsWildcard'
  | 'sanDnsCnames' | 'spiffeTrustDomain' | 'fileDirectUpdate' | 'refreshIntervalMinutes' | 'httpPort' | 'socket' | 'runAfter' | 'runAfterCertsErr'
  | 'runAfterTokens' | 'runAfterTokensErr' | 'runAfterTimeoutSeconds' | 'warnings'
> &
  Partial<Pick<SiaConfig, 'keyDir' | 'certDir' | 'backupDir' | 'tokenDir'>> & {
    services?: Raw;
    roles?: Raw;
    accessTokens?: unknown;
    storeTokenOption: StoreTokenOption;
    /** The requested lifetime each service inherits, in minutes. */
    expiryMins: number;
  };
