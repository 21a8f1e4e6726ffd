/**
 * EKS clusters and pods. A cluster has an OIDC issuer (registered as an IAM
 * OIDC provider in its account, as `eksctl utils associate-iam-oidc-provider`
 * does); a pod gets its role's credentials either through EKS Pod Identity
 * (container credentials + authorization token file) or IRSA (projected
 * service-account token + AWS_ROLE_ARN, exchanged by the SDK itself with
 * AssumeRoleWithWebIdentity).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { awsTimestamp } from './clock.ts';
import { isAwsError, validationError } from './aws-error.ts';
import { accountOfArn, oidcProviderArn } from './arn.ts';
import { clientEnv } from './client-env.ts';
import { isAccountId, isRegion, newHexId, newUuid } from './ids.ts';
import { checkLaunchOptions } from './launch-options.ts';
import { audiences, eksIssuer, issuerBaseUrl, type IssuerKey, type JwtClaims } from './oidc.ts';
import type { OidcIssuers } from './oidc-issuers.ts';
import type { SimContext } from './sim-context.ts';
import type { EksClusterRecord, OidcProviderRecord, PodRecord } from './state.ts';

/** Service-account tokens live a day, as the EKS webhook projects them. */
const TOKEN_SECONDS = 86400;
/** A projected volume's default `expirationSeconds` (Kubernetes: 1 hour). */
const PROJECTED_SECONDS = 3600;
/** The pod's environment names its projected token for Tessera here (siad reads it). */
export const SA_TOKEN_FILE_ENV = 'TESSERA_SA_TOKEN_FILE';
const IRSA_AUDIENCE = 'sts.amazonaws.com';
const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export interface EksClusterInfo {
  name: string;
  account: string;
  region: string;
  arn: string;
  issuer: string;
  oidcProviderArn: string;
}

export interface EksPodOptions {
  mode: 'pod-identity' | 'irsa';
  /** The pod's role, by ARN or by name in `account`. */
  role: string;
  account?: string;
  region?: string;
  cluster?: string;
  namespace?: string;
  serviceAccount?: string;
  podName?: string;
  /**
   * The audience of a projected service-account token volume in the pod spec
   * (Tessera: the ZTS URL); its file is named by TESSERA_SA_TOKEN_FILE.
   */
  tokenAudience?: string;
  /** That token's lifetime, 600..86400 seconds (default 3600, as Kubernetes). */
  tokenExpirationSeconds?: number;
}

export interface EksPod {
  podName: string;
  podUid: string;
  namespace: string;
  serviceAccount: string;
  mode: 'pod-identity' | 'irsa';
  account: string;
  region: string;
  roleArn: string;
  cluster: EksClusterInfo;
  tokenFile: string;
  /** The projected token for `tokenAudience`, when the pod spec asks for one. */
  saTokenFile?: string;
  env: Record<string, string>;
}

function check(what: string, value: string, pattern: RegExp): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw validationError(`Invalid ${what} '${value}'`);
  return value;
}

export class EksPods {
  constructor(
    private readonly ctx: SimContext,
    private readonly issuers: OidcIssuers,
    /** The single key every cluster shared in older state files. */
    private readonly legacyKey?: IssuerKey,
  ) {}

  /** The cluster, created on first use; its OIDC id is derived from account/region/name so it is stable. */
  cluster(account: string, region: string, name: string): EksClusterInfo {
    if (!isAccountId(account)) throw validationError('account must be 12 digits');
    if (!isRegion(region)) throw validationError(`Invalid region '${region}'`);
    check('cluster name', name, /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/);
    const id = `${account}/${region}/${name}`;
    let c = this.ctx.state.eksClusters[id];
    const existed = c !== undefined;
    if (!c) {
      const oidcId = createHash('sha256').update(id).digest('hex').slice(0, 32).toUpperCase();
      c = {
        account,
        region,
        name,
        arn: `arn:aws:eks:${region}:${account}:cluster/${name}`,
        oidcId,
        issuer: eksIssuer(region, oidcId),
      };
      this.ctx.state.eksClusters[id] = c;
    }
    // Each cluster signs with keys of its own; a cluster from an older state file keeps the shared key.
    this.issuers.ensure(c.issuer, ['RS256'], existed ? this.legacyKey : undefined);
    this.ensureOidcProvider(account, c);
    this.ctx.persist();
    return this.info(c);
  }

  private info(c: EksClusterRecord): EksClusterInfo {
    return {
      name: c.name,
      account: c.account,
      region: c.region,
      arn: c.arn,
      issuer: c.issuer,
      oidcProviderArn: oidcProviderArn(c.account, c.issuer.slice('https://'.length)),
    };
  }

  /** IRSA needs the cluster's issuer registered in the role's account. */
  private ensureOidcProvider(account: string, c: EksClusterRecord): OidcProviderRecord {
    const url = c.issuer.slice('https://'.length);
    const id = `${account}/${url}`;
    this.ctx.state.oidcProviders[id] ??= {
      account,
      url,
      arn: oidcProviderArn(account, url),
      clientIds: [IRSA_AUDIENCE],
      createDate: awsTimestamp(this.ctx.clock()),
    };
    return this.ctx.state.oidcProviders[id];
  }

  oidcProvider(account: string, issuerHostPath: string): OidcProviderRecord | undefined {
    return this.ctx.state.oidcProviders[`${account}/${issuerHostPath}`];
  }

  launch(opts: EksPodOptions): EksPod {
    checkLaunchOptions(opts, ['role', 'account', 'region', 'cluster', 'namespace', 'serviceAccount', 'podName', 'tokenAudience']);
    const projected = this.projectedOptions(opts);
    if (opts.mode !== 'pod-identity' && opts.mode !== 'irsa') throw validationError(`mode must be 'pod-identity' or 'irsa'`);
    if (!opts.role) throw validationError('role is required');
    const account = opts.account ?? accountOfArn(opts.role);
    if (!isAccountId(account)) throw validationError('account must be 12 digits (or give role as an ARN)');
    const region = opts.region ?? this.ctx.defaultRegion;
    const cluster = this.cluster(account, region, opts.cluster ?? 'tessera');
    const role = this.ctx.roles.resolve(account, opts.role);
    const namespace = check('namespace', opts.namespace ?? 'default', DNS_LABEL);
    const serviceAccount = check('service account', opts.serviceAccount ?? 'default', DNS_SUBDOMAIN);
    const podName = check('pod name', opts.podName ?? `${serviceAccount.split('.')[0].slice(0, 40)}-${newHexId(10)}-${newHexId(5)}`, DNS_SUBDOMAIN);
    const clusterId = `${cluster.account}/${cluster.region}/${cluster.name}`;
    if (Object.values(this.ctx.state.pods).some((p) => p.cluster === clusterId && p.namespace === namespace && p.podName === podName)) {
      throw validationError(`Pod ${namespace}/${podName} already exists in cluster ${cluster.name}`);
    }
    const podUid = newUuid();
    const dir = join(this.ctx.filesDir, 'pods', podUid);
    const pod: PodRecord = {
      podName,
      podUid,
      namespace,
      serviceAccount,
      serviceAccountUid: createHash('sha256').update(`${clusterId}/${namespace}/${serviceAccount}`).digest('hex').slice(0, 32),
      cluster: clusterId,
      account,
      region,
      mode: opts.mode,
      roleArn: role.arn,
      tokenFile: join(dir, opts.mode === 'irsa' ? 'token' : 'eks-pod-identity-token'),
      ...(projected ? { projected: { ...projected, file: join(dir, 'tessera', 'token') } } : {}),
      launched: awsTimestamp(this.ctx.clock()),
    };
    if (pod.mode === 'irsa') {
      this.ensureOidcProvider(role.account, this.ctx.state.eksClusters[clusterId]);
    }
    this.writeToken(pod);
    // Pod Identity: fail now, as the association would, if the role does not trust pods.eks.amazonaws.com.
    if (pod.mode === 'pod-identity') this.credentials(pod);
    this.ctx.state.pods[podUid] = pod;
    this.ctx.persist();
    return this.describe(pod);
  }

  private projectedOptions(opts: EksPodOptions): { audience: string; expirationSeconds: number } | undefined {
    if (opts.tokenAudience === undefined) {
      if (opts.tokenExpirationSeconds !== undefined) throw validationError('tokenExpirationSeconds needs tokenAudience');
      return undefined;
    }
    if (typeof opts.tokenAudience !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(opts.tokenAudience)) {
      throw validationError('tokenAudience must be 1-256 printable characters (Tessera: the ZTS URL)');
    }
    const seconds = opts.tokenExpirationSeconds ?? PROJECTED_SECONDS;
    if (!Number.isInteger(seconds) || seconds < 600 || seconds > 86400) {
      throw validationError('tokenExpirationSeconds must be a whole number from 600 to 86400');
    }
    return { audience: opts.tokenAudience, expirationSeconds: seconds };
  }

  describe(pod: PodRecord): EksPod {
    const url = this.ctx.url();
    const base = { ...clientEnv(url, pod.region), HOSTNAME: pod.podName };
    const saToken: Record<string, string> = pod.projected ? { [SA_TOKEN_FILE_ENV]: pod.projected.file } : {};
    const env =
      pod.mode === 'irsa'
        ? { ...base, ...saToken, AWS_STS_REGIONAL_ENDPOINTS: 'regional', AWS_ROLE_ARN: pod.roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: pod.tokenFile }
        : { ...base, ...saToken, AWS_CONTAINER_CREDENTIALS_FULL_URI: `${url}/v1/credentials`, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: pod.tokenFile };
    return {
      podName: pod.podName,
      podUid: pod.podUid,
      namespace: pod.namespace,
      serviceAccount: pod.serviceAccount,
      mode: pod.mode,
      account: pod.account,
      region: pod.region,
      roleArn: pod.roleArn,
      cluster: this.info(this.ctx.state.eksClusters[pod.cluster]),
      tokenFile: pod.tokenFile,
      ...(pod.projected ? { saTokenFile: pod.projected.file } : {}),
      env,
    };
  }

  /** Rewrites every pod's token file with a fresh token, as the kubelet does before they expire. */
  refreshTokens(): void {
    for (const pod of Object.values(this.ctx.state.pods)) this.writeToken(pod);
  }

  /** Rotates the cluster's signing key (the previous one stays published) and rewrites the pods' tokens. */
  rotateClusterKeys(account: string, region: string, name: string): { issuer: string; kids: string[] } {
    const c = this.ctx.state.eksClusters[`${account}/${region}/${name}`];
    if (!c) throw validationError(`No cluster ${name} in ${account}/${region}`);
    const kids = this.issuers.rotate(c.issuer);
    for (const pod of Object.values(this.ctx.state.pods)) if (pod.cluster === `${account}/${region}/${name}`) this.writeToken(pod);
    return { issuer: c.issuer, kids };
  }

  private writeToken(pod: PodRecord): void {
    this.writeTokenFile(pod, pod.tokenFile, pod.mode === 'irsa' ? IRSA_AUDIENCE : POD_IDENTITY_AUDIENCE, TOKEN_SECONDS);
    if (pod.projected) this.writeTokenFile(pod, pod.projected.file, pod.projected.audience, pod.projected.expirationSeconds);
  }

  private writeTokenFile(pod: PodRecord, file: string, audience: string, seconds: number): void {
    const c = this.ctx.state.eksClusters[pod.cluster];
    const now = Math.floor(this.ctx.clock().getTime() / 1000);
    const claims: JwtClaims = {
      aud: [audience],
      exp: now + seconds,
      iat: now,
      'kubernetes.io': {
        namespace: pod.namespace,
        pod: { name: pod.podName, uid: pod.podUid },
        serviceaccount: { name: pod.serviceAccount, uid: pod.serviceAccountUid },
      },
      nbf: now,
      sub: `system:serviceaccount:${pod.namespace}:${pod.serviceAccount}`,
    };
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(file, this.issuers.sign(c.issuer, claims), { mode: 0o600 });
  }

  private credentials(pod: PodRecord): Record<string, string> {
    const c = this.ctx.state.eksClusters[pod.cluster];
    const role = this.ctx.roles.resolve(undefined, pod.roleArn);
    const s = this.ctx.workloads.vend({
      workload: `eks:${pod.podUid}`,
      role,
      service: 'pods.eks.amazonaws.com',
      actions: ['sts:AssumeRole', 'sts:TagSession'],
      sessionName: `eks-${c.name}-${pod.podName}-${pod.podUid}`.slice(0, 64).replace(/-+$/, ''),
      context: {
        'aws:SourceAccount': c.account,
        'aws:SourceArn': c.arn,
        'aws:RequestTag/eks-cluster-arn': c.arn,
        'aws:RequestTag/eks-cluster-name': c.name,
        'aws:RequestTag/kubernetes-namespace': pod.namespace,
        'aws:RequestTag/kubernetes-service-account': pod.serviceAccount,
        'aws:RequestTag/kubernetes-pod-name': pod.podName,
        'aws:RequestTag/kubernetes-pod-uid': pod.podUid,
      },
    });
    return {
      AccessKeyId: s.accessKeyId,
      SecretAccessKey: s.secretAccessKey,
      Token: s.sessionToken,
      AccountId: s.account,
      Expiration: s.expiration,
    };
  }

  register(app: FastifyInstance): void {
    // The Pod Identity agent: the pod's projected token is the Authorization header.
    app.get('/v1/credentials', async (req, reply) => {
      const token = req.headers.authorization;
      if (!token) return reply.code(400).send({ Code: 'InvalidParameter', Message: 'Service account token cannot be empty' });
      let claims: JwtClaims;
      try {
        claims = this.issuers.verify(token, this.ctx.clock());
      } catch (e) {
        return reply.code(401).send({ Code: 'InvalidToken', Message: isAwsError(e) ? e.message : 'invalid token' });
      }
      const k8s = claims['kubernetes.io'] as { pod?: { uid?: unknown } } | undefined;
      const pod = typeof k8s?.pod?.uid === 'string' ? this.ctx.state.pods[k8s.pod.uid] : undefined;
      if (!audiences(claims).includes(POD_IDENTITY_AUDIENCE) || !pod || pod.mode !== 'pod-identity') {
        return reply.code(401).send({ Code: 'InvalidToken', Message: 'The token is not a Pod Identity token of a known pod' });
      }
      try {
        return this.credentials(pod);
      } catch (e) {
        if (!isAwsError(e)) throw e;
        return reply.code(e.status).send({ Code: e.code, Message: e.message });
      }
    });
    const clusterById = (id: string) => Object.values(this.ctx.state.eksClusters).find((c) => c.oidcId === id);
    app.get<{ Params: { id: string } }>('/oidc/id/:id/.well-known/openid-configuration', async (req, reply) => {
      const c = clusterById(req.params.id);
      if (!c) return reply.code(404).send({ error: 'unknown issuer' });
      return reply.redirect(`${issuerBaseUrl(this.ctx.url(), c.issuer)}/.well-known/openid-configuration`);
    });
    app.get<{ Params: { id: string } }>('/oidc/id/:id/keys', async (req, reply) => {
      const c = clusterById(req.params.id);
      return c ? reply.redirect(`${issuerBaseUrl(this.ctx.url(), c.issuer)}/keys`) : reply.code(404).send({ error: 'unknown issuer' });
    });
  }
}
