/** Which AWS compute siad runs on, from the variables each one sets in the container (or -platform). */
import { ConfigError } from './config.ts';

export type Platform = 'eks' | 'fargate' | 'ec2';

export const PLATFORMS: Platform[] = ['eks', 'fargate', 'ec2'];

export function detectPlatform(env: Record<string, string | undefined>, flag: string): Platform {
  if (flag) {
    if (!(PLATFORMS as string[]).includes(flag)) throw new ConfigError(`-platform takes eks, fargate or ec2, not "${flag}"`);
    return flag as Platform;
  }
  // ECS sets the task metadata endpoint in every container of a task.
  if (env.ECS_CONTAINER_METADATA_URI_V4 || env.ECS_CONTAINER_METADATA_URI) return 'fargate';
  // Kubernetes sets KUBERNETES_SERVICE_HOST; Pod Identity and IRSA set their token files.
  if (env.KUBERNETES_SERVICE_HOST || env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE || env.AWS_WEB_IDENTITY_TOKEN_FILE) return 'eks';
  if (env.AWS_EC2_METADATA_DISABLED === 'true') {
    throw new ConfigError(
      'cannot tell where siad runs: no ECS task metadata (Fargate), no Kubernetes or EKS pod credentials (EKS), and the EC2 metadata service is disabled; give -platform eks|fargate|ec2',
    );
  }
  return 'ec2';
}

/** The -meta default per platform, as Athenz's binaries have it. */
export function defaultMetaEndpoint(platform: Platform): string {
  return platform === 'fargate' ? 'http://169.254.170.2' : '';
}
