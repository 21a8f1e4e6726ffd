/**
 * The AWS provider's rules for SAN DNS names and the instance id
 * (Athenz InstanceUtils.validateCertRequestSanDnsNames).
 */
import { claim, refusal, type Explained } from '@tessera/core/explained';
import { ProviderError } from '../instance-provider.ts';

const INSTANCE_ID_MARKER = '.instanceid.athenz.';

/** Returns the instance id the names carry; throws when a name is not the service's. */
export function checkSanDnsNames(a: {
  domain: string;
  service: string;
  sanDns: string[];
  instanceId: string;
  dnsSuffixes: string[];
}): string {
  if (a.dnsSuffixes.length === 0) throw new ProviderError('the AWS provider has no DNS suffix configured');
  const expected = a.dnsSuffixes.map((s) => `${a.service}.${a.domain.replace(/\./g, '-')}.${s}`);
  const fail = (why: string | Explained) =>
    new ProviderError(refusal('csr_hostname_invalid')`Unable to validate certificate request hostnames: ${why} (expected a name like ${expected[0]})`);
  if (a.sanDns.length === 0) throw fail('the CSR has no DNS name for the service');

  // ZTS has checked that the instance id URI and an instance id DNS name agree with `instanceId`; here the DNS form's suffix.
  const idNames = a.sanDns.filter((n) => n.includes(INSTANCE_ID_MARKER));
  if (idNames.length > 1) throw fail('more than one instance id DNS name');
  for (const name of idNames) {
    if (!a.dnsSuffixes.includes(name.split(INSTANCE_ID_MARKER)[1])) throw fail(refusal('csr_hostname_invalid')`${claim('sanDNS', name)} does not end with a configured suffix`);
  }

  const dashed = a.domain.replace(/\./g, '-');
  let matched = 0;
  for (const name of a.sanDns) {
    if (name.includes(INSTANCE_ID_MARKER)) continue;
    const suffix = a.dnsSuffixes.find((s) => name.endsWith(`.${dashed}.${s}`));
    const labels = suffix ? name.slice(0, name.length - `.${dashed}.${suffix}`.length).split('.') : [];
    if (!labels.includes(a.service)) throw fail(refusal('csr_hostname_invalid')`${claim('sanDNS', name)} is not a name of ${a.domain}.${a.service}`);
    matched++;
  }
  if (matched === 0) throw fail('only instance id names');
  return a.instanceId;
}
