/**
 * The workload's AWS side, only through the AWS SDK: its own credentials from
 * the default chain (Fargate container credentials, EKS Pod Identity or IRSA),
 * who it is (STS GetCallerIdentity), where it runs (task metadata, pod name),
 * and the AssumeRole of `<domain>.<service>` that ZTS checks.
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';

export type Platform = 'fargate' | 'eks';

export interface Workload {
  platform: Platform;
  region: string;
  account: string;
  /** The workload role's name, e.g. `sports.api-service`. */
  roleName: string;
  callerArn: string;
  instanceId: string;
}

export interface AssumedCredentials {
  access: string;
  secret: string;
  token: string;
}

export function detectPlatform(env: NodeJS.ProcessEnv): Platform {
  if (env.ECS_CONTAINER_METADATA_URI_V4) return 'fargate';
  if (env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.KUBERNETES_SERVICE_HOST) return 'eks';
  throw new Error('cannot tell where this runs: no ECS task metadata (Fargate) and no EKS pod credentials; this siad supports Fargate and EKS');
}

function sts(region: string, credentials?: AssumedCredentials): STSClient {
  return new STSClient({
    region,
    ...(credentials ? { credentials: { accessKeyId: credentials.access, secretAccessKey: credentials.secret, sessionToken: credentials.token } } : { credentials: fromNodeProviderChain() }),
  });
}

export async function discoverWorkload(env: NodeJS.ProcessEnv): Promise<Workload> {
  const platform = detectPlatform(env);
  let region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-west-2';
  let instanceId = env.HOSTNAME ?? 'eksPod';
  if (platform === 'fargate') {
    const res = await fetch(`${env.ECS_CONTAINER_METADATA_URI_V4}/task`);
    if (!res.ok) throw new Error(`task metadata answered ${res.status}`);
    const arn = String(((await res.json()) as { TaskARN?: string }).TaskARN ?? '');
    // arn:aws:ecs:<region>:<account>:task/[<cluster>/]<task-id>
    const m = /^arn:aws:ecs:([^:]+):(\d{12}):task\/(?:[^/]+\/)?([^/]+)$/.exec(arn);
    if (!m) throw new Error(`unexpected TaskARN in task metadata: ${arn}`);
    region = m[1];
    instanceId = m[3];
  }
  const client = sts(region);
  try {
    const who = await client.send(new GetCallerIdentityCommand({}));
    const arn = who.Arn ?? '';
    const role = /:assumed-role\/([^/]+)\//.exec(arn)?.[1];
    if (!role) throw new Error(`the workload credentials are not a role session (${arn})`);
    return { platform, region, account: who.Account ?? '', roleName: role, callerArn: arn, instanceId };
  } finally {
    client.destroy();
  }
}

/** AssumeRole of `<domain>.<service>`; a refusal says which trust statement is missing. */
export async function assumeServiceRole(w: Workload, domain: string, service: string, account: string, rolePath?: string): Promise<AssumedCredentials> {
  const path = rolePath ? `${rolePath.replace(/^\/|\/$/g, '')}/` : '';
  const roleArn = `arn:aws:iam::${account}:role/${path}${domain}.${service}`;
  const client = sts(w.region);
  try {
    const out = await client.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: `${domain}.${service}` }));
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) throw new Error('STS AssumeRole returned no credentials');
    return { access: c.AccessKeyId, secret: c.SecretAccessKey, token: c.SessionToken };
  } catch (e) {
    const name = (e as Error).name;
    if (name === 'AccessDenied' || name === 'AccessDeniedException') {
      const workloadRole = `arn:aws:iam::${w.account}:role/${w.roleName}`;
      throw new Error(
        `AWS refused to let ${w.callerArn} assume ${roleArn}.\n` +
          `Add this statement to the trust relationship of ${roleArn}:\n` +
          JSON.stringify({ Effect: 'Allow', Principal: { AWS: workloadRole }, Action: 'sts:AssumeRole' }, null, 2),
      );
    }
    throw e;
  } finally {
    client.destroy();
  }
}
