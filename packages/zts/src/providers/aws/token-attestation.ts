/**
 * Attestation by a signed token, checked locally against the issuer's cached
 * keys: no AWS call per certificate.
 *
 * - `eks-token`: the pod's projected service-account token, issued by its EKS
 *   cluster (`https://oidc.eks.<region>.amazonaws.com/id/<ID>`) for ZTS's
 *   audience. The cluster's issuer must be an IAM OIDC provider of the
 *   domain's account; the service account must be `<domain>.<service>`; the
 *   instance id must be this pod (its name or uid in the token).
 * - `aws-token`: a JWT from STS GetWebIdentityToken, issued by the account's
 *   outbound issuer (`https://<uuid>.tokens.sts.global.api.aws`), naming the
 *   role `<domain>.<service>` (or `<service>`) of a domain account.
 */
import { ProviderError } from '../instance-provider.ts';
import type { IssuerKeyCache } from './issuer-keys.ts';
import type { IssuerRegistry } from './account-issuers.ts';

export type TokenMethod = 'eks-token' | 'aws-token';

const EKS_ISSUER = /^https:\/\/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com\/id\/[A-Za-z0-9]{1,64}$/;
const AWS_ISSUER = /^https:\/\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tokens\.sts\.global\.api\.aws$/;
/** Audiences of tokens meant for AWS itself: never accepted, whatever ZTS's audience is set to. */
const AWS_AUDIENCES = ['sts.amazonaws.com', 'pods.eks.amazonaws.com'];

export interface TokenSettings {
  keys: IssuerKeyCache;
  issuers: IssuerRegistry;
  /** The `aud` ZTS asks for (its URL by default, known once it listens). */
  audience: () => string;
  clockToleranceSeconds: number;
  /** aws-token: AWS Organizations allowed (`org_id`); empty: any. */
  orgAllowList: string[];
}

export interface TokenRequest {
  domain: string;
  service: string;
  accounts: string[];
  instanceId: string;
  /** The SPIFFE and instance URIs ZTS decided for the certificate. */
  sanUris: string[];
}

/** The method a token is for, from its (not yet verified) issuer. */
export function tokenMethod(token: string): { method: TokenMethod; issuer: string } {
  let iss: unknown;
  try {
    iss = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown }).iss;
  } catch {
    throw new ProviderError('identity token is not a JWT');
  }
  if (typeof iss === 'string' && EKS_ISSUER.test(iss)) return { method: 'eks-token', issuer: iss };
  if (typeof iss === 'string' && AWS_ISSUER.test(iss)) return { method: 'aws-token', issuer: iss };
  throw new ProviderError(
    `unknown token issuer ${JSON.stringify(iss ?? null)}: ZTS accepts EKS cluster issuers (https://oidc.eks.<region>.amazonaws.com/id/<ID>) ` +
      'and AWS outbound web identity issuers (https://<id>.tokens.sts.global.api.aws)',
  );
}

function audienceOk(payload: { aud?: unknown }, s: TokenSettings): void {
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const forAws = aud.find((a) => typeof a === 'string' && AWS_AUDIENCES.includes(a));
  if (forAws) throw new ProviderError(`token audience ${forAws} is meant for AWS, not ZTS: request a token for audience ${s.audience()}`);
}

function decodeClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Returns the attested identity (issuer and subject). */
export async function verifyEksToken(token: string, issuer: string, r: TokenRequest, s: TokenSettings): Promise<string> {
  audienceOk(decodeClaims(token), s);
  // Trust first, then fetch: only an issuer registered in the domain's account is ever contacted.
  let registered = false;
  for (const account of r.accounts) if (await s.issuers(account, issuer)) registered = true;
  if (!registered) {
    throw new ProviderError(
      `token issuer ${issuer} is not an IAM OIDC provider of the domain's AWS account (${r.accounts.join(', ')}); ` +
        'register the cluster\'s issuer in that account (eksctl utils associate-iam-oidc-provider)',
    );
  }
  const claims = await s.keys.verify(token, issuer, { audience: s.audience(), clockToleranceSeconds: s.clockToleranceSeconds });
  const sub = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(typeof claims.sub === 'string' ? claims.sub : '');
  if (!sub) throw new ProviderError(`token subject ${String(claims.sub)} is not a Kubernetes service account`);
  const [, namespace, serviceAccount] = sub;
  const full = `${r.domain}.${r.service}`;
  if (serviceAccount !== full) {
    throw new ProviderError(`service account ${serviceAccount} is not the service ${full}: run the pod as service account ${full}`);
  }
  const k8s = (claims['kubernetes.io'] ?? {}) as { namespace?: unknown; pod?: { name?: unknown; uid?: unknown } };
  if (k8s.namespace !== undefined && k8s.namespace !== namespace) throw new ProviderError('token namespace claims disagree');
  const podName = typeof k8s.pod?.name === 'string' ? k8s.pod.name : undefined;
  const podUid = typeof k8s.pod?.uid === 'string' ? k8s.pod.uid : undefined;
  if (!podUid) throw new ProviderError('token is not bound to a pod (no kubernetes.io pod uid): mount a projected service-account token');
  if (r.instanceId !== podUid && r.instanceId !== podName) {
    throw new ProviderError(`instance id ${r.instanceId} is not the pod this token was issued to (${podName ?? '?'}, uid ${podUid})`);
  }
  for (const uri of r.sanUris) {
    const ns = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\//.exec(uri)?.[1];
    if (ns !== undefined && ns !== namespace) {
      throw new ProviderError(`SPIFFE URI namespace ${ns} does not match the token's namespace ${namespace}`);
    }
  }
  return `${issuer}#${claims.sub}`;
}

/** Returns the attested identity (the role ARN). */
export async function verifyAwsToken(token: string, issuer: string, r: TokenRequest, s: TokenSettings): Promise<string> {
  audienceOk(decodeClaims(token), s);
  const claims = await s.keys.verify(token, issuer, { audience: s.audience(), clockToleranceSeconds: s.clockToleranceSeconds });
  const aws = (claims['https://sts.amazonaws.com/'] ?? {}) as { aws_account?: unknown; org_id?: unknown };
  // The organization first: outside the allow-list nothing else about the token matters.
  if (s.orgAllowList.length > 0 && !(typeof aws.org_id === 'string' && s.orgAllowList.includes(aws.org_id))) {
    throw new ProviderError(`token organization ${String(aws.org_id ?? '(none)')} is not allowed (allowed: ${s.orgAllowList.join(', ')})`);
  }
  const account = typeof aws.aws_account === 'string' ? aws.aws_account : '';
  if (!r.accounts.includes(account)) {
    throw new ProviderError(`token account ${account || '(none)'} is not an AWS account of domain ${r.domain} (${r.accounts.join(', ')})`);
  }
  const role = /^arn:aws:iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]+)$/.exec(typeof claims.sub === 'string' ? claims.sub : '');
  const full = `${r.domain}.${r.service}`;
  if (!role || role[1] !== account || (role[2] !== full && role[2] !== r.service)) {
    throw new ProviderError(`token subject ${String(claims.sub)} is not the role ${full} of account ${account}: get the token with the credentials of role ${full}`);
  }
  return String(claims.sub);
}
