/**
 * The environment variables that point the unmodified AWS SDK (and siad) at
 * the simulator instead of AWS. Nothing in it leads off loopback: without an
 * instance of its own, the EC2 metadata endpoint is aws-sim's own address
 * (which answers every metadata path with a 404 that says how to get an
 * instance) rather than 169.254.169.254, so siad told `-platform ec2` outside
 * an instance asks aws-sim, and the SDK's default chain does not look at all.
 */
export function clientEnv(url: string, region: string, imdsEndpoint?: string): Record<string, string> {
  return {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ENDPOINT_URL_STS: url,
    AWS_ENDPOINT_URL_IAM: url,
    ...(imdsEndpoint
      ? { AWS_EC2_METADATA_SERVICE_ENDPOINT: imdsEndpoint, AWS_EC2_METADATA_V1_DISABLED: 'true' }
      : { AWS_EC2_METADATA_SERVICE_ENDPOINT: url, AWS_EC2_METADATA_DISABLED: 'true' }),
  };
}
