/**
 * The names in siad's CSRs, as Athenz SIA puts them: service CSRs with CN
 * `<domain>.<service>`, OU the provider, SAN DNS per -dnsdomains and the
 * SPIFFE and instance-id URIs; role CSRs with CN `<domain>:role.<role>`.
 */
import { createCsr } from '@tessera/core/x509/csr';
import type { Subject } from '@tessera/core/x509/names';

export interface CsrNames {
  subject: Subject;
  dnsNames: string[];
  uris: string[];
}

export interface ServiceNameInputs {
  domain: string;
  service: string;
  provider: string;
  instanceId: string;
  dnsDomains: string[];
  wildcard?: boolean;
  cnames?: string[];
  /** Kubernetes DNS names (EKS), after the service names. */
  k8sNames?: string[];
  spiffeTrustDomain?: string;
  namespace?: string;
}

const dashed = (domain: string) => domain.replace(/\./g, '-');

export function serviceSpiffeUri(a: { domain: string; service: string; spiffeTrustDomain?: string; namespace?: string }): string {
  // The trust-domain form needs a namespace; without one Athenz falls back to the short form.
  return a.spiffeTrustDomain && a.namespace
    ? `spiffe://${a.spiffeTrustDomain}/ns/${a.namespace}/sa/${a.domain}.${a.service}`
    : `spiffe://${a.domain}/sa/${a.service}`;
}

export function serviceCsrNames(a: ServiceNameInputs): CsrNames {
  const dns: string[] = [];
  for (const d of a.dnsDomains) {
    dns.push(`${a.service}.${dashed(a.domain)}.${d}`);
    if (a.wildcard) dns.push(`*.${a.service}.${dashed(a.domain)}.${d}`);
  }
  dns.push(...(a.cnames ?? []), ...(a.k8sNames ?? []));
  return {
    subject: { commonName: `${a.domain}.${a.service}`, organizationalUnit: a.provider },
    dnsNames: [...new Set(dns)],
    // SPIFFE first: consumers read the first URI as the identity.
    uris: [serviceSpiffeUri(a), `athenz://instanceid/${a.provider}/${a.instanceId}`],
  };
}

export function roleCsrNames(a: {
  role: string;
  principal: string;
  provider: string;
  instanceId: string;
  spiffeTrustDomain?: string;
}): CsrNames {
  const m = /^([^:]+):role\.(.+)$/.exec(a.role);
  if (!m) throw new Error(`role ${a.role} must look like <domain>:role.<role>`);
  const [, domain, role] = m;
  return {
    subject: { commonName: a.role, organizationalUnit: a.provider },
    dnsNames: [],
    uris: [
      a.spiffeTrustDomain ? `spiffe://${a.spiffeTrustDomain}/ns/${domain}/ra/${role}` : `spiffe://${domain}/ra/${role}`,
      `athenz://instanceid/${a.provider}/${a.instanceId}`,
      `athenz://principal/${a.principal}`,
    ],
  };
}

/** The pod's Kubernetes DNS names from the ATHENZ_SIA_POD_* variables (Athenz GetK8SHostnames, zone cluster.local). */
export function k8sDnsNames(env: Record<string, string | undefined>, namespace: string | undefined): string[] {
  if (!namespace) return [];
  const zone = 'cluster.local';
  const names: string[] = [];
  const ip = env.ATHENZ_SIA_POD_IP;
  const svc = env.ATHENZ_SIA_POD_SERVICE;
  const host = env.ATHENZ_SIA_POD_HOSTNAME;
  const sub = env.ATHENZ_SIA_POD_SUBDOMAIN;
  if (ip) {
    const ipName = ip.replace(/\./g, '-');
    names.push(`${ipName}.${namespace}.pod.${zone}`);
    if (svc) names.push(`${ipName}.${svc}.${namespace}.pod.${zone}`);
  }
  if (host) names.push(`${host}${sub ? `.${sub}` : ''}.${namespace}.svc.${zone}`);
  if (svc) names.push(`${svc}.${namespace}.svc.${zone}`, `${svc}.${namespace}.svc`);
  return names;
}

export function buildCsr(keyPem: string, names: CsrNames): Promise<string> {
  return createCsr({ keyPem, subject: names.subject, dnsNames: names.dnsNames, uris: names.uris });
}
