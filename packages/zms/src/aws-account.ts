/**
 * The domain `account` attribute: one AWS account id or several, comma
 * separated. Unlike Athenz (which only checks each item is a CompoundName),
 * Tessera requires real AWS account ids — 12 digits — since ZTS compares them
 * with the account STS reports.
 */
import { badRequest } from '@tessera/core/errors';

const MAX_LENGTH = 512;

/** Trims, drops blanks, de-duplicates (order kept); '' clears the account. */
export function normalizeAwsAccounts(value: string): string {
  if (value.length > MAX_LENGTH) throw badRequest(`aws account value exceeds maximum length of ${MAX_LENGTH}`);
  const items = [...new Set(value.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
  if (items.length === 0 && value.trim() !== '') {
    throw badRequest('aws account value must contain at least one account');
  }
  for (const item of items) {
    if (!/^\d{12}$/.test(item)) {
      throw badRequest(`Invalid AWS account id "${item}": an AWS account id is exactly 12 digits, e.g. 123456789012`);
    }
  }
  return items.join(',');
}

export function accountSet(value: string | null | undefined): Set<string> {
  return new Set((value ?? '').split(',').filter((s) => s !== ''));
}

export function sameAccounts(a: string | null | undefined, b: string | null | undefined): boolean {
  const x = accountSet(a);
  const y = accountSet(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
}
