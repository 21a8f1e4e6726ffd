/**
 * The certificate signer. One implementation today: a CA key and certificate
 * in PEM files. Other signers (an HSM, a remote CA) would implement the same
 * interface.
 */
import type { CertificateAuthority } from '@tessera/core/x509/ca';
import { issueCertificate, type IssueRequest } from '@tessera/core/x509/issue';

export type SignRequest = Omit<IssueRequest, 'ca'>;

export interface CertSigner {
  sign(req: SignRequest): Promise<{ certPem: string; serialHex: string }>;
  /** PEM bundle clients must trust: the `x509CertificateSigner` of responses. */
  caBundlePem(): string;
}

export function pemFileSigner(ca: CertificateAuthority): CertSigner {
  return {
    sign: (req) => issueCertificate({ ...req, ca }),
    caBundlePem: () => ca.certPem,
  };
}
