/** The X509-SVID: the primary service's identity in the SPIFFE profile, from ZTS's `POST /svid` with the service certificate. */
import { parseCertificate } from '@tessera/core/x509/certificate';
import { keyMatchesCertificate } from '@tessera/core/x509/keys';
import { CommandError, nameOf, refusal, type Agent } from './agent.ts';
import { buildCsr } from './csr.ts';
import { inspectService } from './service-cert.ts';
import type { Svid } from './workload-identity.ts';

/** The SVID certifies the service key (the same key as the files): ZTS takes only the CSR's key; the names come from the certificate. */
export async function fetchSvid(a: Agent, signal?: AbortSignal): Promise<Svid & { notAfter: Date }> {
  const svc = a.config.services[0];
  const current = inspectService(a, svc);
  if (!current.usable) throw new CommandError(`cannot fetch the X509-SVID: the service certificate of ${nameOf(a, svc)} is not usable (${current.reason})`);
  const csr = await buildCsr(current.keyPem, { subject: { commonName: nameOf(a, svc) }, dnsNames: [], uris: [] });
  const res = await a.zts.svid({ csr }, { cert: current.certPem, key: current.keyPem }, signal).catch((e) => refusal(`the X509-SVID of ${nameOf(a, svc)}`, e));
  if (!keyMatchesCertificate(current.keyPem, res.x509Certificate)) throw new Error(`ZTS returned an X509-SVID for ${nameOf(a, svc)} that does not match the key`);
  return { spiffeId: res.spiffeId, certPem: res.x509Certificate, keyPem: current.keyPem, notAfter: parseCertificate(res.x509Certificate).notAfter };
}
