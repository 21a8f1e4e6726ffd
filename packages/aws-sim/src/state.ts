/**
 * Everything the simulator knows, as plain JSON so that `--state FILE` can keep
 * accounts, roles, credentials and launches across restarts. The file holds
 * secrets (keys, session credentials), so it is written 0600.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { IssuerKey } from './oidc.ts';

export interface UserRecord {
  account: string;
  userName: string;
  userId: string;
  arn: string;
  createDate: string;
}

export interface AccessKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  account: string;
  /** Absent for the account root. */
  userName?: string;
  createDate: string;
}

export interface SessionRecord {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  account: string;
  roleArn: string;
  roleName: string;
  roleId: string;
  sessionName: string;
  issued: string;
  expiration: string;
  /** Assumed with credentials that were themselves a role session (1 hour cap in AWS). */
  chained: boolean;
}

export interface RoleTag {
  Key: string;
  Value: string;
}

export interface RoleRecord {
  account: string;
  roleName: string;
  path: string;
  roleId: string;
  arn: string;
  createDate: string;
  assumeRolePolicyDocument: string;
  description?: string;
  maxSessionDuration: number;
  tags: RoleTag[];
}

export interface OidcProviderRecord {
  account: string;
  /** Issuer without `https://`, e.g. `oidc.eks.us-west-2.amazonaws.com/id/ABC…`. */
  url: string;
  arn: string;
  clientIds: string[];
  createDate: string;
}

export interface EksClusterRecord {
  account: string;
  region: string;
  name: string;
  arn: string;
  oidcId: string;
  issuer: string;
}

export interface TaskRecord {
  taskId: string;
  account: string;
  region: string;
  cluster: string;
  clusterArn: string;
  taskArn: string;
  family: string;
  revision: string;
  containerName: string;
  containerId: string;
  availabilityZone: string;
  roleArn: string;
  credentialsId: string;
  launched: string;
}

export interface PodRecord {
  podName: string;
  podUid: string;
  namespace: string;
  serviceAccount: string;
  serviceAccountUid: string;
  cluster: string;
  account: string;
  region: string;
  mode: 'pod-identity' | 'irsa';
  roleArn: string;
  tokenFile: string;
  /** The pod spec's projected service-account token for another audience (e.g. Tessera ZTS). */
  projected?: { audience: string; file: string; expirationSeconds: number };
  launched: string;
}

export interface InstanceRecord {
  instanceId: string;
  account: string;
  region: string;
  availabilityZone: string;
  instanceType: string;
  imageId: string;
  privateIp: string;
  roleArn: string;
  instanceProfileName: string;
  instanceProfileId: string;
  tags: Record<string, string>;
  httpTokens: 'required' | 'optional';
  document: string;
  pkcs7: string;
  signature: string;
  launched: string;
  /** Last IMDS port, reused on restart when free. */
  imdsPort?: number;
}

export interface SigningKeys {
  documentKeyPem: string;
  documentCertPem: string;
  /** The one EKS issuer key of state files written before issuers had keys of their own. */
  oidcKeyPem?: string;
  oidcKid?: string;
}

export interface OidcIssuerRecord {
  /** Newest first; the newest of each algorithm signs. */
  keys: IssuerKey[];
}

/** Outbound web identity federation of one account (IAM EnableOutboundWebIdentityFederation). */
export interface OutboundFederationRecord {
  issuer: string;
  enabled: boolean;
  /** The account's AWS Organization (`org_id` in its tokens), set through the admin API. */
  orgId?: string;
}

export interface SimState {
  version: 1;
  adminToken: string;
  keys?: SigningKeys;
  users: Record<string, UserRecord>;
  accessKeys: Record<string, AccessKeyRecord>;
  sessions: Record<string, SessionRecord>;
  /** Workload (task/pod/instance) → its current session's access key id. */
  workloadSessions: Record<string, string>;
  roles: Record<string, RoleRecord>;
  oidcProviders: Record<string, OidcProviderRecord>;
  /** By issuer URL. */
  oidcIssuers: Record<string, OidcIssuerRecord>;
  /** By account. */
  outboundFederation: Record<string, OutboundFederationRecord>;
  eksClusters: Record<string, EksClusterRecord>;
  tasks: Record<string, TaskRecord>;
  pods: Record<string, PodRecord>;
  instances: Record<string, InstanceRecord>;
}

export function emptyState(adminToken: string): SimState {
  return {
    version: 1,
    adminToken,
    users: {},
    accessKeys: {},
    sessions: {},
    workloadSessions: {},
    roles: {},
    oidcProviders: {},
    oidcIssuers: {},
    outboundFederation: {},
    eksClusters: {},
    tasks: {},
    pods: {},
    instances: {},
  };
}

export function loadState(file: string, adminToken: string): SimState {
  if (!existsSync(file)) return emptyState(adminToken);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`aws-sim state file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as SimState).version !== 1) {
    throw new Error(`aws-sim state file ${file} has an unknown format`);
  }
  // Fill collections added after the file was written.
  return { ...emptyState(adminToken), ...(parsed as SimState) };
}

/** Write-then-rename so that a crash never leaves half a file. */
export function saveState(file: string, state: SimState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 1), { mode: 0o600 });
  renameSync(tmp, file);
}
