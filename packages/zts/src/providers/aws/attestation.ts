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

/**
 * The credentials go into the signed STS request: the access key id in its
 * Authorization header, the session token in X-Amz-Security-Token. A value
 * an HTTP header cannot carry (CR, LF, NUL, non-ASCII such as an emoji or a
 * lone surrogate) is the caller's error, named here — sent on, it would fail
 * inside the HTTP client and read as an AWS outage. Access key ids are 16 to
 * 128 word characters (AWS STS API reference, Credentials.AccessKeyId); the
 * token's size AWS leaves open, so only its alphabet and a generous cap.
 */
const CREDENTIAL_FORMATS: Record<'access' | 'secret' | 'token', { re: RegExp; what: string }> = {
  access: { re: /^[A-Za-z0-9]{16,128}$/, what: 'an AWS access key id: 16 to 128 letters and digits' },
  secret: { re: /^[\x21-\x7e]{1,256}$/, what: 'an AWS secret access key: printable ASCII without spaces, at most 256 characters' },
  token: { re: /^[\x21-\x7e]{1,8192}$/, what: 'the session token as AWS issued it: printable ASCII without spaces, at most 8192 characters' },
};

function checkCredentialFormats(a: AwsAttestation): void {
  for (const field of ['access', 'secret', 'token'] as const) {
    const value = a[field];
    if (value !== '' && !CREDENTIAL_FORMATS[field].re.test(value)) {
      throw new ProviderError(`attestationData.${field} must be ${CREDENTIAL_FORMATS[field].what}`, 400);
    }
  }
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
  const parsed: AwsAttestation = {
    role: str('role'),
    access: str('access'),
    secret: str('secret'),
    token: str('token'),
    ...(str('document') ? { document: str('document') } : {}),
    ...(str('signature') ? { signature: str('signature') } : {}),
    ...(str('taskid') ? { taskid: str('taskid') } : {}),
    ...(str('identityToken') ? { identityToken: str('identityToken') } : {}),
  };
  checkCredentialFormats(parsed);
  return parsed;
}
