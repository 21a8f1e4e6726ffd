/**
 * Validation of a service certificate CSR before the provider sees it
 * (Athenz X509ServiceCertRequest): instance id, common name, subject, URIs,
 * and which DNS names are forwarded to the provider. The result holds the
 * names ZTS will sign (cert-names.ts), never the CSR's own.
 */
import { badRequest } from '@tessera/core/errors';
import { claim, fact, refusal, type Explained } from '@tessera/core/explained';
import type { DomainData } from '@tessera/core/model';
import { parseCsr, type ParsedCsr } from '@tessera/core/x509/csr';
import type { Subject } from '@tessera/core/x509/names';
import { providerDnsSuffixes } from './provider-dns-suffixes.ts';
import { certSubject, instanceIdOf, serviceCertUris } from './cert-names.ts';

export { instanceIdOf } from './cert-names.ts';

export interface ValidatedServiceCsr {
  csr: ParsedCsr;
  instanceId: string;
  /** DNS names under a provider suffix: the provider must vouch for them. */
  forwardedDns: string[];
  /** What the certificate will say. */
  names: { subject: Subject; dnsNames: string[]; uris: string[] };
}

const failed = (detail: string | Explained) => badRequest(refusal('csr_invalid')`CSR validation failed - ${detail}`);
const csrRefused = refusal('csr_invalid');

// Instance ids go into URIs, paths and records: EC2 ids, ECS task ids, pod UIDs all fit.
const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,255}$/;

export async function validateServiceCsr(a: {
  csrPem: string;
  domain: DomainData;
  service: string;
  provider: string;
  sysAuth: DomainData | undefined;
  allowedO: string[];
  fallbackInstanceId?: string;
}): Promise<ValidatedServiceCsr> {
  if (typeof a.csrPem !== 'string' || a.csrPem === '') throw badRequest('csr is required: a PEM certificate signing request');
  const csr = await parseCsr(a.csrPem);
  if (!csr.signatureValid) throw badRequest('unable to parse PKCS10 CSR: its signature does not verify with its own key');
  const full = `${a.domain.name}.${a.service}`;

  const instanceId = instanceIdOf(csr.dnsNames, csr.uris) || a.fallbackInstanceId;
  if (!instanceId) throw failed(csrRefused`InstanceId cannot be empty: add the URI athenz://instanceid/${claim('provider', a.provider)}/<instance-id>`);
  const dnsInstanceId = instanceIdOf(csr.dnsNames, []);
  if (dnsInstanceId && dnsInstanceId !== instanceId) {
    // The provider checks the DNS form; the certificate must not name a different instance in its URI.
    throw failed(csrRefused`the instance id DNS name says ${claim('dnsInstanceId', dnsInstanceId)} but the instance id URI says ${claim('instanceId', instanceId)}: name one instance`);
  }
  if (!INSTANCE_ID.test(instanceId)) {
    throw failed(csrRefused`instance id ${claim('instanceId', instanceId, { quoted: true })} is not valid: use letters, digits, '.', '_', ':' and '-' (at most 256)`);
  }
  if (csr.commonName.toLowerCase() !== full) {
    throw failed(
      csr.commonName
        ? csrRefused`Unable to validate CSR common name: ${claim('commonName', csr.commonName)}, expected ${fact('expectedCommonName', full)}`
        : csrRefused`Unable to validate CSR common name: (empty), expected ${fact('expectedCommonName', full)}`,
    );
  }
  const subject = certSubject(csr, { commonName: full, ou: a.provider, allowedO: a.allowedO, fail: failed });
  const uris = serviceCertUris(csr.uris, { domain: a.domain.name, service: a.service, provider: a.provider, instanceId, fail: failed });
  if (csr.ipAddresses.length > 0 || csr.emails.length > 0) {
    // Fargate and EKS workloads have no stable IP; nothing vouches for one.
    throw failed('IP address and e-mail SANs are not accepted in service certificates');
  }

  const suffixes = providerDnsSuffixes(a.sysAuth, a.provider);
  const certDnsDomain = a.domain.certDnsDomain;
  const forwardedDns: string[] = [];
  const dnsNames: string[] = [];
  for (const name of new Set(csr.dnsNames.map((n) => n.toLowerCase()))) {
    if (suffixes.some((s) => name.endsWith(`.${s}`))) forwardedDns.push(name);
    else if (!certDnsDomain || !name.endsWith(`.${certDnsDomain}`)) {
      throw failed(
        csrRefused`${claim('sanDNS', name)} does not end with provider/service configured suffix or hostname (provider ${claim('provider', a.provider)} may use: ${suffixes.join(', ') || 'no suffix'})`,
      );
    }
    dnsNames.push(name);
  }
  return { csr, instanceId, forwardedDns, names: { subject, dnsNames, uris } };
}
