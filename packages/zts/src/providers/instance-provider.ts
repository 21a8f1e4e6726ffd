import type { Explained, Explanation } from '@tessera/core/explained';

/**
 * An instance provider confirms that a workload is what it claims to be (as
 * Athenz's InstanceProvider): `confirm` on register, `refresh` on refresh.
 */
export interface InstanceConfirmation {
  provider: string;
  domain: string;
  service: string;
  attestationData: string;
  /** instanceId, clientIP, awsAccount, sanDNS, sanURI, hostname … as Athenz sends them. */
  attributes: Record<string, string>;
}

/** Control attributes the provider returns (all optional). */
export interface ProviderResult {
  /** Lifetime cap in minutes. */
  certExpiryTime?: number;
  certUsage?: 'client' | 'server';
  /** false: no cert record, so the certificate can never be refreshed. */
  certRefresh?: boolean;
  /** Who the provider verified (e.g. the STS caller ARN): a register from another identity is a takeover. */
  attestedIdentity?: string;
}

export interface InstanceProvider {
  confirm(c: InstanceConfirmation): Promise<ProviderResult>;
  refresh(c: InstanceConfirmation): Promise<ProviderResult>;
}

/** A refusal by the provider: ZTS answers 403 (400 for malformed attestation data, 504 when AWS does not answer). */
export class ProviderError extends Error {
  readonly explanation?: Explanation;

  constructor(
    message: string | Explained,
    readonly status: 400 | 403 | 504 = 403,
  ) {
    super(typeof message === 'string' ? message : message.message);
    this.name = 'ProviderError';
    if (typeof message !== 'string') this.explanation = message.explanation;
  }
}
