/**
 * Which AWS compute siad runs on: from -platform, else from the variables
 * each one sets in the container, and only when none is found from a short
 * probe of the EC2 metadata service, so that siad in a plain shell answers
 * within about a second instead of waiting on 169.254.169.254.
 */
import { ConfigError } from './config/types.ts';
import { httpFetch } from './http-get.ts';

export type Platform = 'eks' | 'fargate' | 'ec2';

export const PLATFORMS: Platform[] = ['eks', 'fargate', 'ec2'];

/** The whole probe: one IMDSv2 token request. */
export const IMDS_PROBE_TIMEOUT_MS = 1_000;

const HINT = 'run siad inside the Fargate task, EKS pod or EC2 instance, or give -platform eks|fargate|ec2';

/** The metadata endpoint siad would use on EC2: -meta, the SDK's variable, or AWS's address. */
export function imdsEndpoint(env: Record<string, string | undefined>, meta: string): string {
  return (meta || env.AWS_EC2_METADATA_SERVICE_ENDPOINT || 'http://169.254.169.254').replace(/\/$/, '');
}

/** Whether an EC2 metadata service hands out an IMDSv2 token within the timeout; the reason when not. */
export async function probeImds(endpoint: string, timeoutMs = IMDS_PROBE_TIMEOUT_MS): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const res = await httpFetch(`${endpoint}/latest/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.ok ? { ok: true } : { ok: false, reason: `${endpoint} answered HTTP ${res.status}` };
  } catch (e) {
    const err = e as Error;
    return { ok: false, reason: err.name === 'TimeoutError' ? `nothing answered at ${endpoint} within ${timeoutMs} ms` : `${endpoint}: ${err.cause instanceof Error ? err.cause.message : err.message}` };
  }
}

/** The platform from -platform or the container's variables; undefined when neither tells. */
export function platformFromEnv(env: Record<string, string | undefined>, flag: string): Platform | undefined {
  if (flag) {
    if (!(PLATFORMS as string[]).includes(flag)) throw new ConfigError(`-platform takes eks, fargate or ec2, not "${flag}"`);
    return flag as Platform;
  }
  // ECS sets the task metadata endpoint in every container of a task.
  if (env.ECS_CONTAINER_METADATA_URI_V4 || env.ECS_CONTAINER_METADATA_URI) return 'fargate';
  // Kubernetes sets KUBERNETES_SERVICE_HOST; Pod Identity and IRSA set their token files.
  if (env.KUBERNETES_SERVICE_HOST || env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE || env.AWS_WEB_IDENTITY_TOKEN_FILE) return 'eks';
  return undefined;
}

/**
 * The platform, probing the EC2 metadata service last. A one-shot command
 * gets a ConfigError with the hint when nothing is found; the daemon
 * (`assumeEc2`) goes on as on EC2 and keeps retrying, as it always has.
 */
export async function detectPlatform(
  env: Record<string, string | undefined>,
  flag: string,
  options: { meta?: string; assumeEc2?: boolean; log?: (m: string) => void; probe?: typeof probeImds } = {},
): Promise<Platform> {
  const known = platformFromEnv(env, flag);
  if (known) return known;
  const notFound = 'cannot tell where siad runs: no ECS task metadata (Fargate), no Kubernetes or EKS pod credentials (EKS)';
  if (env.AWS_EC2_METADATA_DISABLED === 'true') {
    throw new ConfigError(`${notFound}, and the EC2 metadata service is disabled (AWS_EC2_METADATA_DISABLED); ${HINT}`);
  }
  const probe = await (options.probe ?? probeImds)(imdsEndpoint(env, options.meta ?? ''));
  if (probe.ok) return 'ec2';
  if (options.assumeEc2) {
    options.log?.(`${notFound}, and no EC2 metadata service (${probe.reason}): going on as on EC2 and retrying; ${HINT}`);
    return 'ec2';
  }
  throw new ConfigError(`${notFound}, and no EC2 metadata service (${probe.reason}); ${HINT}`);
}

/** The -meta default per platform, as Athenz's binaries have it. */
export function defaultMetaEndpoint(platform: Platform): string {
  return platform === 'fargate' ? 'http://169.254.170.2' : '';
}
