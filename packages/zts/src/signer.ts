/**
 * The certificate signer. One implementation today: a CA key and certificate
 * in PEM files. Other signers (an HSM, a remote CA) would implement the same
 * interface.
 */
import type { CertificateAuthority } from '@tessera/core/x509/ca';
import { issueCertificate, type IssueRequest } from '@tessera/core/x509/issue';
import { createCrl, type CrlRequest } from '@tessera/core/x509/crl';

export type SignRequest = Omit<IssueRequest, 'ca' | 'crlDistributionPoint'>;

export interface CertSigner {
  sign(req: SignRequest): Promise<{ certPem: string; serialHex: string }>;
  /** The CA's revocation list, DER. */
  signCrl(req: Omit<CrlRequest, 'ca'>): Promise<Buffer>;
  /** PEM bundle clients must trust: the `x509CertificateSigner` of responses. */
  caBundlePem(): string;
}

export interface SignerOptions {
  /** Written into every certificate as its CRL distribution point (the operator's public URL of GET /zts/v1/crl). */
  crlUrl?: string;
}

export function pemFileSigner(ca: CertificateAuthority, o: SignerOptions = {}): CertSigner {
  return {
    sign: (req) => issueCertificate({ ...req, ca, ...(o.crlUrl ? { crlDistributionPoint: o.crlUrl } : {}) }),
    signCrl: (req) => createCrl({ ...req, ca }),
    caBundlePem: () => ca.certPem,
  };
}
