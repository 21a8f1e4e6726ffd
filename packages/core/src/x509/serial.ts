import { pooledRandomBytes } from '../random-pool.ts';

/** A random, positive 128-bit serial number as hex. */
export function randomSerial(): string {
  const bytes = pooledRandomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01; // positive, and never a leading zero byte
  return bytes.toString('hex');
}

/**
 * A serial as one spelling of its number, to compare serials by: lower case,
 * without leading zeros (records keep whole bytes, e.g. `0a1f…`; Node reports `A1F…`).
 */
export const serialKey = (hex: string): string => hex.toLowerCase().replace(/^0+(?=.)/, '');
