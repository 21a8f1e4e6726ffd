/** Client certificates made by hand, as a CA would issue them to a workload, for tests of mTLS callers. */
import { backdated } from '@tessera/core/x509/clock-skew';
import { issueCertificate } from '@tessera/core/x509/issue';
import { generateKeyPair } from '@tessera/core/x509/keys';

/** A client certificate `ca` signed on a fresh EC key, valid for an hour and backdated as ZTS backdates. */
export async function clientCertificate(
  ca: { keyPem: string; certPem: string },
  subject: { commonName: string; uris?: string[] },
): Promise<{ cert: string; key: string }> {
  const key = generateKeyPair('ec');
  const now = new Date();
  const { certPem } = await issueCertificate({
    ca, publicKeyPem: key.publicKeyPem, subject: { commonName: subject.commonName }, ...(subject.uris ? { uris: subject.uris } : {}),
    notBefore: backdated(now), notAfter: new Date(now.getTime() + 3_600_000), usage: 'client',
  });
  return { cert: certPem, key: key.privateKeyPem };
}
