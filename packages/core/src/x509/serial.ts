import { pooledRandomBytes } from '../random-pool.ts';

/** A random, positive 128-bit serial number as hex. */
export function randomSerial(): string {
  const bytes = pooledRandomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01; // positive, and never a leading zero byte
  return bytes.toString('hex');
}
