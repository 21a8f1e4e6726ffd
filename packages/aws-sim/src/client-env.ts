/**
 * The environment variables that point the unmodified AWS SDK at the
 * simulator instead of AWS.
 */
export function clientEnv(url: string, region: string, imdsEndpoint?: string): Record<string, string> {
  return {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ENDPOINT_URL_STS: url,
    AWS_ENDPOINT_URL_IAM: url,
    // Without an instance of its own, keep the SDK's default chain off 169.254.169.254.
    ...(imdsEndpoint
      ? { AWS_EC2_METADATA_SERVICE_ENDPOINT: imdsEndpoint, AWS_EC2_METADATA_V1_DISABLED: 'true' }
      : { AWS_EC2_METADATA_DISABLED: 'true' }),
  };
}
