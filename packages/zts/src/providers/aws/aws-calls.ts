/**
 * What ZTS asks of AWS (and of AWS-operated OIDC issuers), by call and reason,
 * so an operator can see that the token path makes no call per certificate.
 */
export type AwsCallCounter = (call: AwsCall, reason: AwsCallReason) => void;

export type AwsCall = 'sts:GetCallerIdentity' | 'sts:AssumeRole' | 'iam:ListOpenIDConnectProviders' | 'oidc:discovery' | 'oidc:jwks';

/** sts-attestation: the STS fallback, one per register/refresh; the others are cache fills. */
export type AwsCallReason = 'sts-attestation' | 'oidc-provider-lookup' | 'issuer-first-use' | 'issuer-keys-stale' | 'unknown-kid';

export const ignoreAwsCalls: AwsCallCounter = () => {};
