/**
 * aws-sim: a local stand-in for AWS IAM, STS and the ECS/EKS/EC2 metadata
 * endpoints that the unmodified AWS SDK for JavaScript v3 accepts. For
 * development and tests only — it listens on loopback and never calls AWS.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { systemClock, type Clock } from './clock.ts';
import { registerAdminApi } from './admin-api.ts';
import { clientEnv } from './client-env.ts';
import { CredentialStore } from './credentials.ts';
import { FargateTasks, type FargateTask, type FargateTaskOptions } from './ecs-metadata.ts';
import { EksPods, type EksClusterInfo, type EksPod, type EksPodOptions } from './eks.ts';
import { RoleStore } from './iam-roles.ts';
import { DocumentSigner } from './identity-document.ts';
import { Ec2Instances, type Ec2Instance, type Ec2InstanceOptions } from './imds.ts';
import { OidcIssuers } from './oidc-issuers.ts';
import { registerQueryEndpoint } from './query-endpoint.ts';
import type { SimContext } from './sim-context.ts';
import { emptyState, loadState, saveState } from './state.ts';
import { WorkloadCredentials } from './workload-credentials.ts';

export interface AwsSimOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** A loopback address; default 127.0.0.1. */
  host?: string;
  /** JSON file keeping accounts, roles, keys and launches across restarts. */
  stateFile?: string;
  /** Tests pass their own to expire credentials without sleeping. */
  clock?: Clock;
  /** Region for launches that name none; default us-west-2. */
  region?: string;
  /** Where pod token files go; default next to the state file, else a temporary directory removed on close. */
  filesDir?: string;
  /** Unexpected internal errors are reported here; default stderr. */
  log?: (message: string) => void;
}

export interface SimAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  account: string;
  /** `arn:aws:iam::<acct>:root` or `arn:aws:iam::<acct>:user/<name>`. */
  arn: string;
  /** Endpoints, region and these credentials as AWS_* variables. */
  env: Record<string, string>;
}

export interface AwsSim {
  /** Base URL of IAM, STS, ECS/EKS metadata and the admin API, e.g. `http://127.0.0.1:4566`. */
  readonly url: string;
  readonly region: string;
  /** Bearer token of the `/_sim/` admin API. */
  readonly adminToken: string;
  /** PEM certificate that verifies instance identity documents (ZTS `aws_public_cert`). */
  readonly identityDocumentCertPem: string;
  /** AWS_ENDPOINT_URL_STS/IAM, AWS_REGION…: what any client needs besides credentials. */
  env(region?: string): Record<string, string>;
  /** A new long-term key of the account root, or of an IAM user (created if new). */
  createAccessKey(account: string, options?: { userName?: string }): SimAccessKey;
  /** The account root's key, created once and then reused (stable with a state file). */
  rootCredentials(account: string): SimAccessKey;
  /** An EKS cluster (created on first use) with its OIDC issuer and provider ARN. */
  eksCluster(options: { account: string; region?: string; cluster: string }): EksClusterInfo;
  launchFargateTask(options: FargateTaskOptions): Promise<FargateTask>;
  launchEksPod(options: EksPodOptions): Promise<EksPod>;
  launchEc2Instance(options: Ec2InstanceOptions): Promise<Ec2Instance>;
  terminateEc2Instance(instanceId: string): Promise<void>;
  /** Rewrites pod token files with fresh tokens, as the kubelet would. */
  refreshPodTokens(): void;
  /** A new signing key for the cluster's issuer (the previous one stays in its JWKS); pods get fresh tokens. */
  rotateClusterKeys(options: { account: string; region?: string; cluster: string }): { issuer: string; kids: string[] };
  /** Puts the account in an AWS Organization: its web identity tokens carry this `org_id`. */
  setOrganization(account: string, orgId: string): void;
  close(): Promise<void>;
}

function checkLoopback(host: string): void {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) {
    throw new Error(`aws-sim listens on loopback only (127.0.0.0/8), not '${host}'`);
  }
}

export async function startAwsSim(options: AwsSimOptions = {}): Promise<AwsSim> {
  const host = options.host ?? '127.0.0.1';
  checkLoopback(host);
  const clock = options.clock ?? systemClock;
  const region = options.region ?? 'us-west-2';
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const newToken = randomBytes(24).toString('base64url');
  const state = options.stateFile ? loadState(options.stateFile, newToken) : emptyState(newToken);
  const persist = options.stateFile ? () => saveState(options.stateFile!, state) : () => {};

  if (!state.keys) {
    const doc = DocumentSigner.generate(clock());
    state.keys = { documentKeyPem: doc.keyPem, documentCertPem: doc.certificatePem };
  }
  const documentSigner = new DocumentSigner(state.keys.documentKeyPem, state.keys.documentCertPem);
  const { oidcKeyPem, oidcKid } = state.keys;
  const legacyKey = oidcKeyPem && oidcKid ? { alg: 'RS256' as const, kid: oidcKid, keyPem: oidcKeyPem } : undefined;

  let filesDir = options.filesDir ?? (options.stateFile ? `${options.stateFile}.files` : undefined);
  const ownsFilesDir = filesDir === undefined;
  filesDir ??= mkdtempSync(join(tmpdir(), 'aws-sim-'));
  mkdirSync(filesDir, { recursive: true, mode: 0o700 });

  const credentials = new CredentialStore(state, clock, persist);
  const roles = new RoleStore(state, clock, persist, (a, u) => credentials.userExists(a, u));
  const workloads = new WorkloadCredentials(state, roles, credentials, clock, persist);
  let url = '';
  const ctx: SimContext = {
    state,
    clock,
    persist,
    roles,
    credentials,
    workloads,
    url: () => url,
    host,
    defaultRegion: region,
    filesDir,
    log,
  };
  const tasks = new FargateTasks(ctx);
  const issuers = new OidcIssuers(ctx);
  const pods = new EksPods(ctx, issuers, legacyKey);
  const instances = new Ec2Instances(ctx, documentSigner);

  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  // The SDK corrects its clock skew from this header, so it must be the simulator's clock.
  app.addHook('onSend', async (_req, reply) => {
    reply.header('date', clock().toUTCString());
  });
  registerQueryEndpoint(app, {
    credentials,
    roles,
    clock,
    log,
    sts: { roles, credentials, clock, issuers, state, region, oidcProvider: (a, issuer) => pods.oidcProvider(a, issuer) },
    iamOidc: { state, clock, persist, issuers },
  });
  issuers.register(app);
  tasks.register(app);
  pods.register(app);

  const withEnv = (k: { accessKeyId: string; secretAccessKey: string; account: string; arn: string }): SimAccessKey => ({
    ...k,
    env: { ...clientEnv(url, region), AWS_ACCESS_KEY_ID: k.accessKeyId, AWS_SECRET_ACCESS_KEY: k.secretAccessKey },
  });

  const sim: AwsSim = {
    get url() {
      return url;
    },
    region,
    adminToken: state.adminToken,
    identityDocumentCertPem: state.keys.documentCertPem,
    env: (r = region) => clientEnv(url, r),
    createAccessKey: (account, o = {}) => withEnv(credentials.createAccessKey(account, o.userName)),
    rootCredentials: (account) => withEnv(credentials.rootKey(account)),
    eksCluster: (o) => pods.cluster(o.account, o.region ?? region, o.cluster),
    launchFargateTask: async (o) => tasks.launch(o),
    launchEksPod: async (o) => pods.launch(o),
    launchEc2Instance: (o) => instances.launch(o),
    terminateEc2Instance: (id) => instances.terminate(id),
    refreshPodTokens: () => pods.refreshTokens(),
    rotateClusterKeys: (o) => pods.rotateClusterKeys(o.account, o.region ?? region, o.cluster),
    setOrganization: (account, orgId) => {
      if (!/^o-[a-z0-9]{10,32}$/.test(orgId)) throw new Error(`orgId must look like o-exampleorgid, not '${orgId}'`);
      const f = (state.outboundFederation[account] ??= { issuer: `https://${randomUUID()}.tokens.sts.global.api.aws`, enabled: false });
      f.orgId = orgId;
      persist();
    },
    close: async () => {
      await instances.close();
      await app.close();
      persist();
      if (ownsFilesDir) rmSync(filesDir, { recursive: true, force: true });
    },
  };
  registerAdminApi(app, sim);
  app.setNotFoundHandler((req, reply) => {
    // clientEnv points the EC2 metadata endpoint here when there is no instance: say what to do instead.
    if (req.url.startsWith('/latest/')) {
      return reply.code(404).send({
        code: 404,
        message: 'aws-sim: no EC2 instance at this address (the metadata endpoint of its environment without an instance); ' +
          'launch one (POST /_sim/ec2-instances) and use the AWS_EC2_METADATA_SERVICE_ENDPOINT of its environment, or run siad with -platform eks|fargate in a launched pod or task',
      });
    }
    return reply.code(404).send({ code: 404, message: 'aws-sim has nothing at this path' });
  });

  try {
    url = await app.listen({ host, port: options.port ?? 0 });
    await instances.restore();
  } catch (e) {
    await instances.close();
    await app.close();
    if (ownsFilesDir) rmSync(filesDir, { recursive: true, force: true });
    throw e;
  }
  persist();
  return sim;
}
