/** Subject names and SANs: built as JSON names so that values with commas or '=' need no escaping. */
import { isIP } from 'node:net';
import type { JsonGeneralName, JsonName } from '@peculiar/x509';
import { badRequest } from '../errors.ts';

export interface Subject {
  commonName: string;
  organizationalUnit?: string;
  organization?: string;
  country?: string;
}

export function subjectName(s: Subject): JsonName {
  const name: JsonName = [];
  if (s.country) name.push({ C: [s.country] });
  if (s.organization) name.push({ O: [s.organization] });
  if (s.organizationalUnit) name.push({ OU: [s.organizationalUnit] });
  // Athenz tolerates a CSR without CN when it has a SPIFFE URI; an empty CN attribute would be malformed.
  if (s.commonName) name.push({ CN: [s.commonName] });
  return name;
}

export interface SanValues {
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
  emails?: string[];
}

// SAN dNSName, uniformResourceIdentifier and rfc822Name are IA5Strings: printable ASCII, and we allow no spaces.
const IA5_TOKEN = /^[\x21-\x7e]+$/;

function ia5(kind: string, value: string): string {
  if (!IA5_TOKEN.test(value)) throw badRequest(`Invalid SAN ${kind} ${JSON.stringify(value)}: must be non-empty printable ASCII without spaces`);
  return value;
}

/** The SAN entries in a fixed order (DNS, IP, URI, email), each checked for a valid encoding. */
export function generalNames(s: SanValues): (JsonGeneralName & { type: 'dns' | 'ip' | 'url' | 'email' })[] {
  return [
    ...(s.dnsNames ?? []).map((v) => ({ type: 'dns' as const, value: ia5('DNS name', v) })),
    ...(s.ipAddresses ?? []).map((v) => {
      if (isIP(v) === 0) throw badRequest(`Invalid SAN IP address ${JSON.stringify(v)}`);
      return { type: 'ip' as const, value: v };
    }),
    ...(s.uris ?? []).map((v) => ({ type: 'url' as const, value: ia5('URI', v) })),
    ...(s.emails ?? []).map((v) => ({ type: 'email' as const, value: ia5('email', v) })),
  ];
}
