/**
 * Validation of a service certificate CSR before the provider sees it
 * (Athenz X509ServiceCertRequest): instance id, common name, SPIFFE URI,
 * URI schemes, and which DNS names are forwarded to the provider.
 */
import { badRequest } from '@tessera/core/errors';
import type { DomainData } from '@tessera/core/model';
import { parseCsr, type ParsedCsr } from '@tessera/core/x509/csr';
import { providerDnsSuffixes } from './provider-dns-suffixes.ts';

const INSTANCE_ID_URI = 'athenz://instanceid/';
const ALLOWED_URI_PREFIXES = ['spiffe://', 'athenz://instanceid/', 'athenz://hostname/', 'athenz://principal/'];

export interface ValidatedServiceCsr {
  csr: ParsedCsr;
  instanceId: string;
  /** DNS names under a provider suffix: the provider must vouch for them. */
  forwardedDns: string[];
}

const failed = (detail: string) => badRequest(`CSR validation failed - ${detail}`);

export function instanceIdOf(dnsNames: string[], uris: string[]): string | undefined {
  const uri = uris.find((u) => u.toLowerCase().startsWith(INSTANCE_ID_URI));
  if (uri) {
    const rest = uri.slice(INSTANCE_ID_URI.length);
    const slash = rest.indexOf('/');
    return slash >= 0 ? rest.slice(slash + 1) : undefined;
  }
  const dns = dnsNames.find((n) => n.includes('.instanceid.athenz.'));
  return dns?.split('.instanceid.athenz.')[0];
}

export async function validateServiceCsr(a: {
  csrPem: string;
  domain: DomainData;
  service: string;
  provider: string;
  sysAuth: DomainData | undefined;
  fallbackInstanceId?: string;
}): Promise<ValidatedServiceCsr> {
  if (typeof a.csrPem !== 'string' || a.csrPem === '') throw badRequest('csr is required: a PEM certificate signing request');
  const csr = await parseCsr(a.csrPem);
  if (!csr.signatureValid) throw badRequest('unable to parse PKCS10 CSR: its signature does not verify with its own key');
  const full = `${a.domain.name}.${a.service}`;

  const spiffe = csr.uris.filter((u) => u.toLowerCase().startsWith('spiffe://'));
  if (spiffe.length > 1) throw badRequest('unable to parse PKCS10 CSR: Invalid SPIFFE URI present in CSR (more than one)');
  for (const uri of csr.uris) {
    if (!ALLOWED_URI_PREFIXES.some((p) => uri.toLowerCase().startsWith(p))) throw failed(`unsupported URI in CSR: ${uri}`);
  }
  const instanceId = instanceIdOf(csr.dnsNames, csr.uris) || a.fallbackInstanceId;
  if (!instanceId) throw failed(`InstanceId cannot be empty: add the URI athenz://instanceid/${a.provider}/<instance-id>`);

  if (csr.commonName.toLowerCase() !== full) {
    throw failed(`Unable to validate CSR common name: ${csr.commonName || '(empty)'}, expected ${full}`);
  }
  if (spiffe.length === 1) {
    const u = spiffe[0].toLowerCase();
    const basic = `spiffe://${a.domain.name}/sa/${a.service}`;
    const trustDomainForm = /^spiffe:\/\/[^/]+\/ns\/[^/]+\/sa\/([^/]+)$/.exec(u)?.[1];
    if (u !== basic && trustDomainForm !== full) throw failed(`Unable to validate Service SPIFFE URI ${spiffe[0]} (expected ${basic})`);
  }
  if (csr.ipAddresses.length > 0 || csr.emails.length > 0) {
    // Fargate and EKS workloads have no stable IP; nothing vouches for one.
    throw failed('IP address and e-mail SANs are not accepted in service certificates');
  }

  const suffixes = providerDnsSuffixes(a.sysAuth, a.provider);
  const certDnsDomain = a.domain.certDnsDomain;
  const forwardedDns: string[] = [];
  for (const name of csr.dnsNames.map((n) => n.toLowerCase())) {
    if (suffixes.some((s) => name.endsWith(`.${s}`))) forwardedDns.push(name);
    else if (certDnsDomain && name.endsWith(`.${certDnsDomain}`)) continue;
    else {
      throw failed(
        `${name} does not end with provider/service configured suffix or hostname (provider ${a.provider} may use: ${suffixes.join(', ') || 'no suffix'})`,
      );
    }
  }
  return { csr, instanceId, forwardedDns };
}
