/** The attestation data Athenz's SIA sends for AWS (AWSAttestationData), a JSON string. */
import { ProviderError } from '../instance-provider.ts';

export interface AwsAttestation {
  role: string;
  access: string;
  secret: string;
  token: string;
  /** EC2 only: the instance identity document and its PKCS#7 signature (base64). */
  document?: string;
  signature?: string;
  taskid?: string;
  /** A signed token (EKS projected service-account token, or STS GetWebIdentityToken's JWT) in place of credentials. */
  identityToken?: string;
}

export function parseAttestation(data: string): AwsAttestation {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(data) as Record<string, unknown>;
  } catch {
    throw new ProviderError('attestation data is not valid JSON');
  }
  if (typeof o !== 'object' || o === null) throw new ProviderError('attestation data must be a JSON object');
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : '');
  return {
    role: str('role'),
    access: str('access'),
    secret: str('secret'),
    token: str('token'),
    ...(str('document') ? { document: str('document') } : {}),
    ...(str('signature') ? { signature: str('signature') } : {}),
    ...(str('taskid') ? { taskid: str('taskid') } : {}),
    ...(str('identityToken') ? { identityToken: str('identityToken') } : {}),
  };
}
