/**
 * STS actions: AssumeRole (refused unless the role's trust policy allows the
 * caller), AssumeRoleWithWebIdentity (IRSA tokens of the simulator's own
 * issuers), GetCallerIdentity, GetWebIdentityToken (a JWT from the account's
 * issuer, once IAM outbound web identity federation is enabled).
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from './clock.ts';
import { AwsError, accessDenied, invalidAction, malformedPolicy, validationError } from './aws-error.ts';
import { parseRoleArn } from './arn.ts';
import type { CredentialStore, Principal } from './credentials.ts';
import type { RoleStore } from './iam-roles.ts';
import { audiences, invalidIdentityToken, type JwtClaims, type SigningAlg } from './oidc.ts';
import type { OidcIssuers } from './oidc-issuers.ts';
import type { QueryParams, XmlShape } from './query-protocol.ts';
import type { OidcProviderRecord, RoleRecord, SessionRecord, SimState } from './state.ts';
import { trustAllows, type TrustCaller } from './trust-policy.ts';
import type { ConditionContext } from './policy-conditions.ts';

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const STS_VERSION = '2011-06-15';
/** Actions that authenticate with their own token rather than SigV4. */
export const UNSIGNED_STS_ACTIONS = new Set(['AssumeRoleWithWebIdentity']);

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const MIN_DURATION = 900;
const DEFAULT_DURATION = 3600;
const CHAINED_MAX_DURATION = 3600;

export interface StsDeps {
  roles: RoleStore;
  credentials: CredentialStore;
  clock: Clock;
  issuers: OidcIssuers;
  state: SimState;
  /** The region this endpoint answers for (GetWebIdentityToken's `source_region`). */
  region: string;
  /** The IAM OIDC provider registered in `account` for an issuer (without `https://`). */
  oidcProvider(account: string, issuerHostPath: string): OidcProviderRecord | undefined;
}

export function credentialsXml(s: SessionRecord): Record<string, XmlShape> {
  return {
    AccessKeyId: s.accessKeyId,
    SecretAccessKey: s.secretAccessKey,
    SessionToken: s.sessionToken,
    Expiration: s.expiration,
  };
}

function assumedRoleUser(s: SessionRecord): Record<string, XmlShape> {
  return {
    AssumedRoleId: `${s.roleId}:${s.sessionName}`,
    Arn: `arn:aws:sts::${s.account}:assumed-role/${s.roleName}/${s.sessionName}`,
  };
}

function sessionName(params: QueryParams): string {
  const name = params.require('RoleSessionName');
  if (!SESSION_NAME.test(name)) {
    throw validationError(
      `1 validation error detected: Value '${name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64`,
    );
  }
  return name;
}

function roleArnParam(params: QueryParams): string {
  const arn = params.require('RoleArn');
  if (arn.length < 20 || arn.length > 2048 || !/^arn:[\w-]+:iam::\d{12}:role\//.test(arn)) {
    throw validationError(`Value '${arn}' at 'roleArn' failed to satisfy constraint: Member must be a role ARN`);
  }
  return arn;
}

function duration(params: QueryParams, role: RoleRecord, chained: boolean): number {
  const d = params.int('DurationSeconds') ?? DEFAULT_DURATION;
  if (d < MIN_DURATION) {
    throw validationError(
      `1 validation error detected: Value '${d}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to ${MIN_DURATION}`,
    );
  }
  if (chained && d > CHAINED_MAX_DURATION) {
    throw validationError('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
  }
  if (d > role.maxSessionDuration) {
    throw validationError('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }
  return d;
}

/** Session policies are accepted (and not applied) but must at least be JSON. */
function checkSessionPolicy(params: QueryParams): void {
  const policy = params.get('Policy');
  if (policy === undefined) return;
  try {
    JSON.parse(policy);
  } catch {
    throw malformedPolicy('The policy is not in the valid JSON format.');
  }
}

/** Session tags become `aws:RequestTag/<key>` and need sts:TagSession in the trust policy. */
function sessionTags(params: QueryParams, context: ConditionContext): boolean {
  const tags = params.members('Tags');
  for (const t of tags) {
    if (!t.Key || t.Value === undefined) throw validationError('Each session tag needs a Key and a Value.');
    context[`aws:RequestTag/${t.Key}`] = t.Value;
  }
  if (tags.length > 0) context['aws:TagKeys'] = tags.map((t) => t.Key);
  return tags.length > 0;
}

function assumeRole(params: QueryParams, caller: Principal, deps: StsDeps): Record<string, XmlShape> {
  const arn = roleArnParam(params);
  const name = sessionName(params);
  const externalId = params.get('ExternalId');
  if (externalId !== undefined && !EXTERNAL_ID.test(externalId)) {
    throw validationError(`Value at 'externalId' failed to satisfy constraint: Member must have length between 2 and 1224`);
  }
  checkSessionPolicy(params);
  const denied = accessDenied(`User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${arn}`);
  if (caller.kind === 'root') throw accessDenied('Roles may not be assumed by root accounts.');
  // An unknown role reads as "not authorized", so callers cannot probe which roles exist.
  const role = deps.roles.byArn(arn);
  if (!role) throw denied;
  const from: TrustCaller = {
    kind: 'aws',
    account: caller.account,
    arns: caller.kind === 'assumed-role' ? [caller.roleArn, caller.arn] : [caller.arn],
  };
  const context: ConditionContext = {
    'aws:PrincipalArn': caller.kind === 'assumed-role' ? caller.roleArn : caller.arn,
    'aws:PrincipalAccount': caller.account,
    'aws:PrincipalType': caller.kind === 'assumed-role' ? 'AssumedRole' : 'User',
    'aws:userid': caller.userId,
    'sts:RoleSessionName': name,
    'sts:ExternalId': externalId,
    'sts:SourceIdentity': params.get('SourceIdentity'),
  };
  const tagged = sessionTags(params, context);
  const policy = deps.roles.trustPolicy(role);
  if (!trustAllows(policy, from, 'sts:AssumeRole', context)) throw denied;
  if (tagged && !trustAllows(policy, from, 'sts:TagSession', context)) {
    throw accessDenied(`User: ${caller.arn} is not authorized to perform: sts:TagSession on resource: ${arn}`);
  }
  if (params.get('SourceIdentity') !== undefined && !trustAllows(policy, from, 'sts:SetSourceIdentity', context)) {
    throw accessDenied(`User: ${caller.arn} is not authorized to perform: sts:SetSourceIdentity on resource: ${arn}`);
  }
  const chained = caller.kind === 'assumed-role';
  const session = deps.credentials.issueSession(role, name, duration(params, role, chained), chained);
  return {
    AssumedRoleUser: assumedRoleUser(session),
    Credentials: credentialsXml(session),
    SourceIdentity: params.get('SourceIdentity'),
  };
}

function assumeRoleWithWebIdentity(params: QueryParams, deps: StsDeps): Record<string, XmlShape> {
  const arn = roleArnParam(params);
  const name = sessionName(params);
  const token = params.require('WebIdentityToken');
  checkSessionPolicy(params);
  const claims = deps.issuers.verify(token, deps.clock());
  if (!claims.iss.startsWith('https://') || claims.iss.endsWith('.tokens.sts.global.api.aws')) {
    // AWS's own outbound tokens cannot be exchanged for credentials.
    throw invalidIdentityToken('The token has no valid issuer.');
  }
  const issuer = claims.iss.slice('https://'.length);
  const ref = parseRoleArn(arn);
  const provider = ref ? deps.oidcProvider(ref.account, issuer) : undefined;
  if (!provider) throw invalidIdentityToken(`No OpenIDConnect provider found in your account for ${claims.iss}`);
  const aud = audiences(claims);
  if (!aud.some((a) => provider.clientIds.includes(a))) throw invalidIdentityToken('Incorrect token audience');
  const denied = accessDenied('Not authorized to perform sts:AssumeRoleWithWebIdentity');
  const role = deps.roles.byArn(arn);
  if (!role) throw denied;
  const context: ConditionContext = {
    [`${issuer}:sub`]: claims.sub,
    [`${issuer}:aud`]: aud,
    'aws:FederatedProvider': provider.arn,
    'sts:RoleSessionName': name,
  };
  const from: TrustCaller = { kind: 'federated', provider: provider.arn };
  if (!trustAllows(deps.roles.trustPolicy(role), from, 'sts:AssumeRoleWithWebIdentity', context)) throw denied;
  const session = deps.credentials.issueSession(role, name, duration(params, role, false), false);
  return {
    Credentials: credentialsXml(session),
    SubjectFromWebIdentityToken: claims.sub,
    AssumedRoleUser: assumedRoleUser(session),
    Provider: issuer,
    Audience: aud[0],
  };
}

const TOKEN_DEFAULT_SECONDS = 300;

function getWebIdentityToken(params: QueryParams, caller: Principal, deps: StsDeps): Record<string, XmlShape> {
  const fed = deps.state.outboundFederation[caller.account];
  if (!fed?.enabled) {
    throw new AwsError(
      'OutboundWebIdentityFederationDisabledException',
      `Outbound web identity federation is disabled for account ${caller.account}; enable it with iam:EnableOutboundWebIdentityFederation`,
      403,
    );
  }
  const audience = params.members('Audience').map((m) => m[''] ?? '');
  if (audience.length < 1 || audience.length > 10 || audience.some((a) => a.length < 1 || a.length > 1000)) {
    throw validationError('Audience must hold 1 to 10 values of 1-1000 characters.');
  }
  const alg = params.require('SigningAlgorithm');
  if (alg !== 'RS256' && alg !== 'ES384') throw validationError(`SigningAlgorithm must be RS256 or ES384, not '${alg}'`);
  const seconds = params.int('DurationSeconds') ?? TOKEN_DEFAULT_SECONDS;
  if (seconds < 60 || seconds > 3600) throw validationError('DurationSeconds must be between 60 and 3600.');
  const now = Math.floor(deps.clock().getTime() / 1000);
  // A role session is named by its role (with path), as AWS puts the role ARN in `sub`.
  const subject = caller.kind === 'assumed-role' ? caller.roleArn : caller.arn;
  const claims: JwtClaims = {
    aud: audience.length === 1 ? audience[0] : audience,
    sub: subject,
    iat: now,
    nbf: now,
    exp: now + seconds,
    jti: randomUUID(),
    'https://sts.amazonaws.com/': {
      aws_account: caller.account,
      source_region: deps.region,
      principal_id: caller.arn,
      ...(fed.orgId ? { org_id: fed.orgId } : {}),
    },
  };
  const token = deps.issuers.sign(fed.issuer, claims, alg as SigningAlg);
  return { WebIdentityToken: token, Expiration: new Date((now + seconds) * 1000) };
}

function getCallerIdentity(caller: Principal): Record<string, XmlShape> {
  return { UserId: caller.userId, Account: caller.account, Arn: caller.arn };
}

/** Runs one STS action; `caller` is undefined only for unsigned actions. */
export function stsAction(
  action: string,
  params: QueryParams,
  caller: Principal | undefined,
  deps: StsDeps,
): Record<string, XmlShape> {
  if (action === 'AssumeRoleWithWebIdentity') return assumeRoleWithWebIdentity(params, deps);
  if (!caller) throw new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
  switch (action) {
    case 'AssumeRole':
      return assumeRole(params, caller, deps);
    case 'GetCallerIdentity':
      return getCallerIdentity(caller);
    case 'GetWebIdentityToken':
      return getWebIdentityToken(params, caller, deps);
    default:
      throw invalidAction(
        `Could not find operation ${action} for version ${STS_VERSION} (aws-sim implements AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity, GetWebIdentityToken)`,
      );
  }
}
