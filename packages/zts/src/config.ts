import { ATTESTATION_METHODS, type AttestationMethod } from './providers/aws/aws-provider.ts';

/** ZTS settings. Lifetimes are in minutes, as in Athenz. */
export interface ZtsConfig {
  /** Region of the STS client ZTS uses to check AWS credentials. */
  awsRegion: string;
  /** STS endpoint (aws-sim in development and tests); the SDK's default when unset. */
  stsEndpoint?: string;
  /** Bound on one STS call; a slower STS gives 504. */
  stsTimeoutMs: number;
  /** DNS suffixes the AWS providers accept (`aws_dns_suffix`). */
  awsDnsSuffixes: string[];
  /** PEM certificates that sign EC2 instance identity documents. */
  awsDocumentCertsPem: string[];
  /** An EC2 instance may register only this long after it booted. */
  ec2BootWindowSeconds: number;
  /** Lifetime of certificates for workloads without an identity document (EKS, Fargate). */
  stsOnlyCertMins: number;
  /** The signer's maximum (and the default for EC2). */
  maxCertMins: number;
  /**
   * How long after a refresh the previous certificate may still refresh (a
   * client that lost the response retries). Athenz accepts it until the next
   * refresh, which leaves a copied certificate usable; Tessera's default is 0:
   * once replaced, a certificate can never refresh again (siad re-registers).
   */
  refreshRetryGraceSeconds: number;
  /** Subject O values a CSR may ask for (`--cert-allowed-o`); empty: certificates carry no O. */
  certAllowedO: string[];
  /** Records not refreshed for this long are removed by the cleaner. */
  certRecordMaxAgeMins: number;
  /** `iss` of access and ID tokens; the URL ZTS listens on when unset. */
  tokenIssuer?: string;
  /** Access token and role token lifetime without `expires_in` (Athenz: 2 hours). */
  tokenDefaultSeconds: number;
  /** The longest lifetime a caller may ask for (Athenz: 30 days). */
  tokenMaxSeconds: number;
  /** ID tokens live at most this long (Athenz: 12 hours). */
  idTokenMaxSeconds: number;
  /** Public URL of GET /zts/v1/crl, written into certificates as their CRL distribution point. */
  crlUrl?: string;
  /** Attestation methods each AWS provider accepts: `aws` (athenz.aws.*) and `aws-ecs` (athenz.aws-ecs.*). */
  attestationMethods: { aws: AttestationMethod[]; 'aws-ecs': AttestationMethod[] };
  /** The `aud` of tokens ZTS accepts; tokenIssuer (ZTS's URL) when unset. */
  attestationAudience?: string;
  /** Development (aws-sim): where OIDC issuers' documents are fetched, `<endpoint>/<issuer host and path>/…`. */
  oidcEndpoint?: string;
  /** IAM endpoint (aws-sim in development); the SDK's default when unset. */
  iamEndpoint?: string;
  /** Role in each domain account that ZTS assumes to list its IAM OIDC providers (Athenz: oidc-issuers-reader). */
  oidcReaderRole: string;
  /** AWS Organizations whose web identity tokens are accepted; empty: any. */
  awsOrgAllowList: string[];
  /** Clock skew allowed on token exp/nbf/iat. */
  tokenClockSkewSeconds: number;
  /** Accept ZMS-signed user tokens (Athenz-Principal-Auth) besides client certificates, as Athenz's default ZTS. */
  principalTokens: boolean;
  /** Services that may carry users' tokens (ZMS's --authorized-services). */
  authorizedServices: string[];
}

export const defaultZtsConfig: ZtsConfig = {
  awsRegion: 'us-west-2',
  stsTimeoutMs: 10_000,
  awsDnsSuffixes: ['aws.athenz.cloud'],
  awsDocumentCertsPem: [],
  ec2BootWindowSeconds: 1800,
  stsOnlyCertMins: 7 * 24 * 60,
  maxCertMins: 30 * 24 * 60,
  refreshRetryGraceSeconds: 0,
  certRecordMaxAgeMins: 30 * 24 * 60,
  tokenDefaultSeconds: 2 * 3600,
  tokenMaxSeconds: 30 * 86_400,
  idTokenMaxSeconds: 12 * 3600,
  certAllowedO: [],
  attestationMethods: { aws: [...ATTESTATION_METHODS], 'aws-ecs': [...ATTESTATION_METHODS] },
  oidcReaderRole: 'oidc-issuers-reader',
  awsOrgAllowList: [],
  tokenClockSkewSeconds: 60,
  principalTokens: true,
  authorizedServices: [],
};

/** `aws=eks-token,aws-token,sts;aws-ecs=aws-token,sts` (providers left out keep every method). */
export function parseAttestationMethods(text: string): ZtsConfig['attestationMethods'] {
  const out = { ...defaultZtsConfig.attestationMethods };
  for (const part of text.split(';').map((p) => p.trim()).filter(Boolean)) {
    const [key, list = ''] = part.split('=').map((x) => x.trim());
    if (key !== 'aws' && key !== 'aws-ecs') throw new Error(`attestation methods: unknown provider kind "${key}" (aws or aws-ecs)`);
    const methods = list.split(',').map((m) => m.trim()).filter(Boolean);
    const bad = methods.find((m) => !(ATTESTATION_METHODS as string[]).includes(m));
    if (bad || methods.length === 0) throw new Error(`attestation methods for ${key}: "${bad ?? ''}" is not one of ${ATTESTATION_METHODS.join(', ')}`);
    out[key] = methods as AttestationMethod[];
  }
  return out;
}
