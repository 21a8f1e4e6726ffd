/** DER encoding of the few types a certificate needs; every function returns one complete element. */
import { TAG } from './reader.ts';
import { encodeOid } from './oids.ts';

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** An element with this tag byte around the concatenated contents. */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = contents.length === 1 ? contents[0] : Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, ...items);
export const set = (...items: Uint8Array[]): Buffer => tlv(TAG.SET, ...items);
const oids = new Map<string, Buffer>();
/** An OBJECT IDENTIFIER element; the few we write are encoded once. */
export function oid(dotted: string): Buffer {
  let b = oids.get(dotted);
  if (!b) {
    b = tlv(TAG.OID, encodeOid(dotted));
    oids.set(dotted, b);
  }
  return b;
}
export const octetString = (v: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, v);
export const nullValue = (): Buffer => Buffer.from([TAG.NULL, 0]);
export const booleanTrue = (): Buffer => Buffer.from([TAG.BOOLEAN, 1, 0xff]);
/** [n] EXPLICIT (constructed) context tag. */
export const explicit = (n: number, ...contents: Uint8Array[]): Buffer => tlv(0xa0 | n, ...contents);
/** [n] IMPLICIT context tag for a primitive value (GeneralName choices). */
export const implicitPrimitive = (n: number, v: Uint8Array): Buffer => tlv(0x80 | n, v);

/** A non-negative INTEGER from big-endian magnitude bytes, minimally encoded. */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const v = magnitude.subarray(i);
  return v.length > 0 && v[0] & 0x80 ? tlv(TAG.INTEGER, Buffer.from([0]), v) : tlv(TAG.INTEGER, v.length ? v : Buffer.from([0]));
}

export const smallInteger = (n: number): Buffer => unsignedInteger(Buffer.from([n]));

/** A BIT STRING of whole bytes (keys, signatures). */
export const bitString = (v: Uint8Array): Buffer => tlv(TAG.BIT_STRING, Buffer.from([0]), v);

/**
 * A named-bit BIT STRING (keyUsage) for bits 0–7: DER drops trailing zero bits
 * and counts them as unused.
 */
export function namedBits(bits: number[]): Buffer {
  let byte = 0;
  for (const b of bits) byte |= 0x80 >> b;
  if (byte === 0) return Buffer.from([TAG.BIT_STRING, 1, 0]);
  let unused = 0;
  while (((byte >> unused) & 1) === 0) unused++;
  return Buffer.from([TAG.BIT_STRING, 2, unused, byte]);
}

/** A directory string as @peculiar/x509 writes one: PrintableString when the characters allow it, else UTF8String. */
export function directoryString(s: string): Buffer {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s) ? tlv(TAG.PRINTABLE_STRING, Buffer.from(s, 'latin1')) : tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8'));
}

const two = (n: number) => String(n).padStart(2, '0');

/** RFC 5280 §4.1.2.5: UTCTime for 1950–2049, GeneralizedTime otherwise; whole seconds, Z. */
export function time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const rest = `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  return y >= 1950 && y < 2050 ? tlv(TAG.UTC_TIME, Buffer.from(`${two(y % 100)}${rest}`, 'latin1')) : tlv(TAG.GENERALIZED_TIME, Buffer.from(`${String(y).padStart(4, '0')}${rest}`, 'latin1'));
}
