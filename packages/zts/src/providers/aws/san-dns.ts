/**
 * The AWS provider's rules for SAN DNS names and the instance id
 * (Athenz InstanceUtils.validateCertRequestSanDnsNames).
 */
import { ProviderError } from '../instance-provider.ts';

const INSTANCE_ID_MARKER = '.instanceid.athenz.';

/** Returns the instance id the names carry; throws when a name is not the service's. */
export function checkSanDnsNames(a: {
  domain: string;
  service: string;
  provider: string;
  sanDns: string[];
  sanUris: string[];
  instanceId: string;
  dnsSuffixes: string[];
}): string {
  if (a.dnsSuffixes.length === 0) throw new ProviderError('the AWS provider has no DNS suffix configured');
  const expected = a.dnsSuffixes.map((s) => `${a.service}.${a.domain.replace(/\./g, '-')}.${s}`);
  const fail = (why: string) =>
    new ProviderError(`Unable to validate certificate request hostnames: ${why} (expected a name like ${expected[0]})`);
  if (a.sanDns.length === 0) throw fail('the CSR has no DNS name for the service');

  let instanceId: string | undefined;
  const idNames = a.sanDns.filter((n) => n.includes(INSTANCE_ID_MARKER));
  if (idNames.length > 1) throw fail('more than one instance id DNS name');
  if (idNames.length === 1) {
    const [id, suffix] = idNames[0].split(INSTANCE_ID_MARKER);
    if (!a.dnsSuffixes.includes(suffix)) throw fail(`${idNames[0]} does not end with a configured suffix`);
    instanceId = id;
  } else {
    const prefix = `athenz://instanceid/${a.provider}/`;
    const uri = a.sanUris.find((u) => u.toLowerCase().startsWith('athenz://instanceid/'));
    if (uri) {
      instanceId = uri.slice(uri.indexOf('/', 'athenz://instanceid/'.length) + 1);
      if (!uri.toLowerCase().startsWith(prefix)) throw fail(`instance id URI ${uri} names another provider`);
    }
  }
  instanceId ||= a.instanceId;
  if (!instanceId) throw fail('no instance id');

  const dashed = a.domain.replace(/\./g, '-');
  let matched = 0;
  for (const name of a.sanDns) {
    if (name.includes(INSTANCE_ID_MARKER)) continue;
    const suffix = a.dnsSuffixes.find((s) => name.endsWith(`.${dashed}.${s}`));
    const labels = suffix ? name.slice(0, name.length - `.${dashed}.${suffix}`.length).split('.') : [];
    if (!labels.includes(a.service)) throw fail(`${name} is not a name of ${a.domain}.${a.service}`);
    matched++;
  }
  if (matched === 0) throw fail('only instance id names');
  return instanceId;
}
