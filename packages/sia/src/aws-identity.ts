/**
 * The workload's AWS side, through the AWS SDK: its own credentials from the
 * default chain (Fargate container credentials, EKS Pod Identity or IRSA, EC2
 * instance profile), where it runs (task metadata, pod name, the signed EC2
 * identity document), which role it runs as, and the AssumeRole of
 * `<domain>.<service>` whose credentials ZTS checks.
 *
 * The SDK loads on first use (a dynamic import): `siad -version`, `-h` and
 * the checks before any AWS call do not pay for parsing it.
 */
import type { STSClient } from '@aws-sdk/client-sts';
import { ConfigError, type SiaConfig, type WorkloadRole } from './config/types.ts';
import { parseIamRoleArn } from './config/iam-names.ts';
import { httpFetch, type HttpFetch } from './http-get.ts';
import { imdsEndpoint, type Platform } from './platform.ts';

export interface Workload {
  platform: Platform;
  region: string;
  instanceId: string;
  /** The account the platform reports (TaskARN, identity document); the caller identity otherwise. */
  account?: string;
  /** EKS pod namespace, when known. */
  namespace?: string;
  /** EC2: the identity document and its PKCS#7 signature, sent as attestation. */
  document?: string;
  signature?: string;
}

export interface AssumedCredentials {
  access: string;
  secret: string;
  token: string;
}

export interface AwsDeps {
  env: Record<string, string | undefined>;
  /** -meta: the metadata endpoint (IMDS, or the ECS agent on Fargate); '' for the SDK's default. */
  meta: string;
  regionalSts: boolean;
  readFile: (path: string) => string;
  /** Metadata reads (tests may answer them); node:http by default. */
  fetch?: HttpFetch;
}

const METADATA_TIMEOUT_MS = 5_000;
const POD_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** `arn:aws:ecs:<region>:<account>:task/[<cluster>/]<task-id>`. */
export function parseTaskArn(arn: string): { region: string; account: string; taskId: string } | undefined {
  const m = /^arn:aws:ecs:([a-z0-9-]+):(\d{12}):task\/(?:[^/]+\/)?([^/]+)$/.exec(arn);
  return m ? { region: m[1], account: m[2], taskId: m[3] } : undefined;
}

/** `arn:aws:sts::<acct>:assumed-role/<role>/<session>` → the role name and account. */
export function parseAssumedRoleArn(arn: string): { account: string; role: string } | undefined {
  const m = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  return m ? { account: m[1], role: m[2] } : undefined;
}

function awsErrorName(e: unknown): string {
  return (e as { name?: string; Code?: string }).name ?? '';
}

/** `<what> failed: <AWS error name>: <message>`; a plain Error (no answer from AWS) without the name. */
function stsFailure(what: string, e: unknown): Error {
  const code = awsErrorName(e);
  return new Error(`${what} failed: ${code && code !== 'Error' ? `${code}: ` : ''}${(e as Error).message}`);
}

export class AwsIdentity {
  private deps: AwsDeps;
  private readonly http: HttpFetch;
  private sts?: Promise<STSClient>;
  private region = '';
  private role?: Promise<WorkloadRole>;

  constructor(deps: AwsDeps) {
    this.deps = deps;
    this.http = deps.fetch ?? httpFetch;
  }

  /** Region, instance id and (EC2) the identity document of the place siad runs in. */
  async discover(platform: Platform, signal?: AbortSignal): Promise<Workload> {
    const env = this.deps.env;
    let w: Workload;
    if (platform === 'fargate') {
      const task = await this.taskArn(signal);
      w = { platform, region: task.region, instanceId: task.taskId, account: task.account };
    } else if (platform === 'eks') {
      const namespace = env.ATHENZ_SIA_POD_NAMESPACE || this.readPodNamespace();
      const region = env.AWS_REGION || (env.AWS_EC2_METADATA_DISABLED === 'true' ? '' : await this.imdsRegion()) || 'us-west-2';
      w = { platform, region, instanceId: env.HOSTNAME || 'eksPod', ...(namespace ? { namespace } : {}) };
    } else {
      w = await this.ec2Document();
    }
    this.region = w.region;
    return w;
  }

  /** A fresh identity document for each request, as ZTS checks it against the instance. */
  async ec2Attestation(): Promise<{ document: string; signature: string }> {
    const w = await this.ec2Document();
    return { document: w.document!, signature: w.signature! };
  }

  /**
   * One IMDS read: an IMDSv2 token, then the GET with it (IMDSv1 when the
   * token request is refused and v1 is allowed), each with a timeout.
   */
  private async imdsGet(path: string, signal?: AbortSignal): Promise<string> {
    const env = this.deps.env;
    const base = imdsEndpoint(env, this.deps.meta);
    const call = async (method: string, url: string, headers: Record<string, string>) => {
      const timeout = AbortSignal.timeout(METADATA_TIMEOUT_MS);
      const res = await this.http(url, { method, headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout }).catch((e: Error) => {
        throw new Error(`${base} did not answer ${method} ${url.slice(base.length)}: ${e.name === 'TimeoutError' ? `no answer within ${METADATA_TIMEOUT_MS} ms` : e.cause instanceof Error ? e.cause.message : e.message}`);
      });
      const text = await res.text();
      return { status: res.status, text };
    };
    const token = await call('PUT', `${base}/latest/api/token`, { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' });
    const v1Allowed = env.AWS_EC2_METADATA_V1_DISABLED !== 'true';
    if (token.status !== 200 && !(v1Allowed && [403, 404, 405].includes(token.status))) {
      throw new Error(`${base} refused an IMDSv2 token: HTTP ${token.status}`);
    }
    const res = await call('GET', `${base}/latest/${path}`, token.status === 200 ? { 'x-aws-ec2-metadata-token': token.text } : {});
    if (res.status !== 200) throw new Error(`${base} answered HTTP ${res.status} for /latest/${path}`);
    return res.text;
  }

  private async imdsRegion(): Promise<string> {
    try {
      const doc = JSON.parse(await this.imdsGet('dynamic/instance-identity/document')) as { region?: string };
      return doc.region ?? '';
    } catch {
      return ''; // Not on a node that answers (IMDS hop limit): use the default.
    }
  }

  private async ec2Document(): Promise<Workload> {
    let document: string;
    let signature: string;
    try {
      document = await this.imdsGet('dynamic/instance-identity/document');
      signature = (await this.imdsGet('dynamic/instance-identity/pkcs7')).trim();
    } catch (e) {
      throw new Error(`cannot read the EC2 instance identity document from the metadata service: ${(e as Error).message}`);
    }
    let doc: { region?: string; accountId?: string; instanceId?: string };
    try {
      doc = JSON.parse(document) as typeof doc;
    } catch {
      throw new Error('the EC2 instance identity document is not JSON');
    }
    if (!doc.region || !doc.accountId || !doc.instanceId) throw new Error('the EC2 instance identity document lacks region, accountId or instanceId');
    return { platform: 'ec2', region: doc.region, account: doc.accountId, instanceId: doc.instanceId, document, signature };
  }

  private readPodNamespace(): string {
    try {
      return this.deps.readFile(POD_NAMESPACE_FILE).trim();
    } catch {
      return '';
    }
  }

  private async getJson(url: string, headers: Record<string, string>, what: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const timeout = AbortSignal.timeout(METADATA_TIMEOUT_MS);
    const res = await this.http(url, { headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout }).catch((e: Error) => {
      throw new Error(`cannot read ${what} at ${url}: ${e.cause instanceof Error ? e.cause.message : e.message}`);
    });
    if (!res.ok) throw new Error(`${what} at ${url} answered HTTP ${res.status}`);
    try {
      return (await res.json()) as Record<string, unknown>;
    } catch {
      throw new Error(`${what} at ${url} is not JSON`);
    }
  }

  /** Task metadata v4, then v3, then the agent's v2 endpoint, as Athenz's Fargate agent tries them. */
  private async taskArn(signal?: AbortSignal): Promise<{ region: string; account: string; taskId: string }> {
    const env = this.deps.env;
    const urls = [
      env.ECS_CONTAINER_METADATA_URI_V4 && `${env.ECS_CONTAINER_METADATA_URI_V4}/task`,
      env.ECS_CONTAINER_METADATA_URI && `${env.ECS_CONTAINER_METADATA_URI}/task`,
      `${this.deps.meta || 'http://169.254.170.2'}/v2/metadata`,
    ].filter((u): u is string => !!u);
    let last: Error | undefined;
    for (const url of urls) {
      try {
        const arn = String((await this.getJson(url, {}, 'the ECS task metadata', signal)).TaskARN ?? '');
        const task = parseTaskArn(arn);
        if (!task) throw new ConfigError(`unexpected TaskARN "${arn}" in the task metadata at ${url}`);
        return task;
      } catch (e) {
        if (e instanceof ConfigError) throw e;
        last = e as Error;
      }
    }
    throw last ?? new Error('no ECS task metadata endpoint');
  }

  /** Region and endpoint of STS clients; `regional` forces the regional endpoint (GetWebIdentityToken needs one). */
  private stsSettings(regional: boolean): { region: string; endpoint?: string } {
    const env = this.deps.env;
    const region = this.region || env.AWS_REGION || 'us-west-2';
    // An endpoint set in the environment (AWS_ENDPOINT_URL_STS) wins, as the SDK itself decides.
    const useRegional = regional && !env.AWS_ENDPOINT_URL_STS && !env.AWS_ENDPOINT_URL;
    return { region, ...(useRegional ? { endpoint: `https://sts.${region}.amazonaws.com` } : {}) };
  }

  private stsClient(): Promise<STSClient> {
    this.sts ??= this.newStsClient();
    return this.sts;
  }

  private async newStsClient(): Promise<STSClient> {
    // Loaded on first use: siad's other commands start without the AWS SDK.
    const { STSClient } = await import('@aws-sdk/client-sts');
    // No credentials given: the client's default is the Node chain (container, Pod Identity, IRSA, instance profile).
    return new STSClient(this.stsSettings(this.deps.regionalSts));
  }

  /**
   * A JWT from STS GetWebIdentityToken, made with the service role's
   * credentials so that it names that role (AWS outbound identity federation,
   * Athenz `aws_web_identity`). Refused until the account enables it.
   */
  async webIdentityToken(creds: AssumedCredentials, o: { audience: string; algorithm: 'RS256' | 'ES384' }, signal?: AbortSignal): Promise<string> {
    const { GetWebIdentityTokenCommand, STSClient } = await import('@aws-sdk/client-sts');
    const sts = new STSClient({
      ...this.stsSettings(true),
      credentials: { accessKeyId: creds.access, secretAccessKey: creds.secret, sessionToken: creds.token },
    });
    try {
      const out = await sts.send(new GetWebIdentityTokenCommand({ Audience: [o.audience], SigningAlgorithm: o.algorithm }), { abortSignal: signal });
      if (!out.WebIdentityToken) throw new Error('STS GetWebIdentityToken returned no token');
      return out.WebIdentityToken;
    } catch (e) {
      throw stsFailure('STS GetWebIdentityToken', e);
    } finally {
      sts.destroy();
    }
  }

  /** The config file may ask for the regional endpoint too; a client made before then is replaced. */
  useRegionalSts(on: boolean): void {
    if (on === this.deps.regionalSts) return;
    this.deps = { ...this.deps, regionalSts: on };
    this.destroy();
    this.sts = undefined;
  }

  /** The caller ARN of the workload's own credentials. */
  async callerArn(signal?: AbortSignal): Promise<string> {
    const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
    try {
      const who = await (await this.stsClient()).send(new GetCallerIdentityCommand({}), { abortSignal: signal });
      return who.Arn ?? '';
    } catch (e) {
      throw stsFailure('STS GetCallerIdentity (who the workload is)', e);
    }
  }

  /**
   * The workload's IAM role: on Fargate from `RoleArn` in the container
   * credentials document (it keeps the role path), elsewhere from STS
   * GetCallerIdentity (an EC2 instance profile as the last resort).
   */
  workloadRole(platform: Platform, signal?: AbortSignal): Promise<WorkloadRole> {
    this.role ??= this.lookUpRole(platform, signal).catch((e: Error) => {
      this.role = undefined; // let a later attempt try again
      throw e;
    });
    return this.role;
  }

  /**
   * The workload's account. On EKS without the AWS SDK where the pod says
   * it (IRSA's AWS_ROLE_ARN, the Pod Identity agent's `AccountId`): a pod
   * attested by its token then never loads the SDK. Elsewhere, the role's.
   */
  async workloadAccount(platform: Platform, signal?: AbortSignal): Promise<string> {
    if (platform === 'eks') {
      const irsa = parseIamRoleArn(this.deps.env.AWS_ROLE_ARN ?? '');
      if (irsa) return irsa.account;
      const doc = await this.containerCredentials(signal).catch(() => undefined);
      if (typeof doc?.AccountId === 'string' && /^\d{12}$/.test(doc.AccountId)) return doc.AccountId;
    }
    return (await this.workloadRole(platform, signal)).account;
  }

  private async lookUpRole(platform: Platform, signal?: AbortSignal): Promise<WorkloadRole> {
    if (platform === 'fargate') {
      const doc = await this.containerCredentials(signal).catch(() => undefined);
      const fromDoc = typeof doc?.RoleArn === 'string' ? doc.RoleArn : undefined;
      const parsed = fromDoc ? parseIamRoleArn(fromDoc) : undefined;
      if (parsed && fromDoc) return { name: parsed.name, account: parsed.account, arn: fromDoc };
    }
    let callerError: Error | undefined;
    try {
      const arn = await this.callerArn(signal);
      const assumed = parseAssumedRoleArn(arn);
      if (assumed) return { name: assumed.role, account: assumed.account, arn: `arn:aws:iam::${assumed.account}:role/${assumed.role}` };
      callerError = new ConfigError(`the workload's AWS credentials are not a role session (${arn}); siad needs a task, pod or instance role`);
    } catch (e) {
      callerError = e as Error;
    }
    if (platform === 'ec2') {
      const profile = await this.instanceProfile().catch(() => undefined);
      if (profile) return profile;
    }
    throw callerError;
  }

  /** The container credentials document (Fargate's ECS agent, EKS Pod Identity's agent). */
  private async containerCredentials(signal?: AbortSignal): Promise<{ RoleArn?: unknown; AccountId?: unknown } | undefined> {
    const env = this.deps.env;
    // aws-sim and Pod Identity use the full URI; real Fargate sets the relative one under 169.254.170.2.
    const url = env.AWS_CONTAINER_CREDENTIALS_FULL_URI ||
      (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ? `${this.deps.meta || 'http://169.254.170.2'}${env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI}` : '');
    if (!url) return undefined;
    const token = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
      ? this.deps.readFile(env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE).trim()
      : env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
    // The document holds the workload's credentials: only RoleArn and AccountId are kept, nothing is logged.
    const doc = await this.getJson(url, token ? { authorization: token } : {}, 'the container credentials', signal);
    return { RoleArn: doc.RoleArn, AccountId: doc.AccountId };
  }

  private async instanceProfile(): Promise<WorkloadRole | undefined> {
    const info = JSON.parse(await this.imdsGet('meta-data/iam/info')) as { InstanceProfileArn?: string };
    const m = /^arn:aws:iam::(\d{12}):instance-profile\/(?:.*\/)?([^/]+)$/.exec(info.InstanceProfileArn ?? '');
    return m ? { name: m[2], account: m[1], arn: `arn:aws:iam::${m[1]}:role/${m[2]}` } : undefined;
  }

  /** The ARN siad assumes for a service: `arn:aws:iam::<account>:role/[<path>/]<domain>.<service>` (just `<service>` with omit_domain). */
  static serviceRoleArn(config: SiaConfig, service: string): { arn: string; name: string } {
    const name = config.omitDomain ? service : `${config.domain}.${service}`;
    const path = config.rolePath ? `${config.rolePath}/` : '';
    return { arn: `arn:aws:iam::${config.account}:role/${path}${name}`, name };
  }

  /**
   * AssumeRole with the role name as session name, as Athenz does (ZTS expects
   * `assumed-role/<role>/<role>`). A refusal names the role, the caller and
   * the trust statement that is missing.
   */
  async assumeServiceRole(config: SiaConfig, service: string, platform: Platform, signal?: AbortSignal): Promise<AssumedCredentials & { role: string }> {
    const { arn, name } = AwsIdentity.serviceRoleArn(config, service);
    try {
      const { AssumeRoleCommand } = await import('@aws-sdk/client-sts');
      const out = await (await this.stsClient()).send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: name.slice(0, 64) }), { abortSignal: signal });
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error(`STS AssumeRole of ${arn} returned no credentials`);
      return { role: name, access: c.AccessKeyId, secret: c.SecretAccessKey, token: c.SessionToken };
    } catch (e) {
      const code = awsErrorName(e);
      if (code === 'AccessDenied' || code === 'AccessDeniedException') {
        const caller = await this.callerArn(signal).catch(() => 'the workload');
        const workloadRole = await this.workloadRole(platform, signal).then((r) => r.arn).catch(() => caller);
        const statement = { Effect: 'Allow', Principal: { AWS: workloadRole }, Action: 'sts:AssumeRole' };
        throw new Error(
          `AWS refused to let ${caller} assume ${arn} (${(e as Error).message}).\n` +
            `The role ${arn} must exist and trust the workload's role. Add this statement to its trust policy:\n` +
            JSON.stringify(statement, null, 2),
        );
      }
      throw stsFailure(`STS AssumeRole of ${arn}`, e);
    }
  }

  /** ARNs of the IAM OIDC providers of the account the workload's credentials belong to (needs iam:ListOpenIDConnectProviders). */
  async oidcProviderArns(signal?: AbortSignal): Promise<string[]> {
    const { IAMClient, ListOpenIDConnectProvidersCommand } = await import('@aws-sdk/client-iam');
    const iam = new IAMClient({ region: 'us-east-1' });
    try {
      const out = await iam.send(new ListOpenIDConnectProvidersCommand({}), { abortSignal: signal });
      return (out.OpenIDConnectProviderList ?? []).map((p) => p.Arn ?? '');
    } finally {
      iam.destroy();
    }
  }

  destroy(): void {
    void this.sts?.then((c) => c.destroy(), () => undefined);
  }
}
