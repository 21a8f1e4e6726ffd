/** Identifiers in the shapes AWS uses, so that code parsing them in production parses them here too. */
import { randomBytes, randomUUID } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += BASE32[bytes[i] % 32];
  return out;
}

/** `AKIA…` for long-term keys, `ASIA…` for temporary ones (20 characters). */
export function newAccessKeyId(kind: 'long-term' | 'temporary'): string {
  return (kind === 'long-term' ? 'AKIA' : 'ASIA') + base32(16);
}

export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}

/** Opaque, long, like real session tokens; only the simulator can map it back to its session. */
export function newSessionToken(): string {
  return randomBytes(240).toString('base64');
}

/** Unique ids: `AROA…` roles, `AIDA…` users, `AIPA…` instance profiles (21 characters). */
export function newUniqueId(prefix: 'AROA' | 'AIDA' | 'AIPA'): string {
  return prefix + base32(17);
}

export function newRequestId(): string {
  return randomUUID();
}

export function newHexId(length: number): string {
  return randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);
}

export function newUuid(): string {
  return randomUUID();
}

export function isAccountId(value: unknown): value is string {
  return typeof value === 'string' && /^\d{12}$/.test(value);
}

export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;

export function isRegion(value: unknown): value is string {
  return typeof value === 'string' && REGION_PATTERN.test(value);
}
