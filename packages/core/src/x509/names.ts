/** Subject names: built as JSON names so that values with commas or '=' need no escaping. */
import type { JsonName } from '@peculiar/x509';

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
  name.push({ CN: [s.commonName] });
  return name;
}
