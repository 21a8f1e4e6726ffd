/**
 * A strict DER reader: definite lengths in their shortest form, minimal
 * integers, no high tag numbers, bounded size and nesting, nothing after the
 * outer element. Input that breaks a rule is a DerError, which callers turn
 * into a 400; nothing here recurses on attacker-chosen depth beyond MAX_DEPTH.
 */

export class DerError extends Error {
  override name = 'DerError';
}

// A CSR or certificate is 0.3–3 KB; 64 KB bounds parse time and memory for hostile input.
export const MAX_DER_BYTES = 64 * 1024;
// Real CSRs and certificates nest about 8 deep (extensions inside attributes inside the request).
export const MAX_DEPTH = 16;

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  TELETEX_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One element: its tag byte and where its header and contents lie in `buf`. */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  valueStart: number;
  /** Offset just past the element. */
  end: number;
}

/** Reads the element at `offset`, which must end by `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated element header');
  const tag = buf[offset];
  if (tag === 0) throw new DerError('end-of-contents marker (tag 0) is not DER');
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not used in CSRs or certificates');
  let length = buf[offset + 1];
  let valueStart = offset + 2;
  if (length === 0x80) throw new DerError('indefinite length is not DER');
  if (length > 0x80) {
    const n = length & 0x7f;
    if (n > 3) throw new DerError('element length is too large');
    if (valueStart + n > limit) throw new DerError('truncated length');
    if (buf[valueStart] === 0) throw new DerError('length has a leading zero byte (not DER)');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[valueStart + i];
    if (length < 0x80) throw new DerError('long-form length for a short length (not DER)');
    valueStart += n;
  }
  const end = valueStart + length;
  if (end > limit) throw new DerError('element runs past its container');
  return { tag, start: offset, valueStart, end };
}

/**
 * Checks that `buf` is exactly one well-formed DER element whose constructed
 * parts nest at most MAX_DEPTH deep. Schema readers then skip unknown parts
 * safely by their lengths. Iterative, so depth costs no stack.
 */
export function checkDer(buf: Uint8Array): void {
  if (buf.length > MAX_DER_BYTES) throw new DerError(`larger than ${MAX_DER_BYTES} bytes`);
  if (buf.length === 0) throw new DerError('empty input');
  const top = readTlv(buf, 0, buf.length);
  if (top.end !== buf.length) throw new DerError('trailing bytes after the outer element');
  // A stack of container ends; each element inside one must end within it.
  const ends: number[] = [];
  let pos = 0;
  let limit = buf.length;
  while (true) {
    while (pos === limit && ends.length > 0) {
      limit = ends.pop()!;
    }
    if (pos === limit) return;
    const t = readTlv(buf, pos, limit);
    if (t.tag & 0x20) {
      if (ends.length >= MAX_DEPTH) throw new DerError(`nested deeper than ${MAX_DEPTH} levels`);
      ends.push(limit);
      limit = t.end;
      pos = t.valueStart;
    } else {
      pos = t.end;
    }
  }
}

/**
 * Walks the elements of one constructed element (a SEQUENCE, SET or explicit
 * tag) in order. `expect` reads the next one and checks its tag.
 */
export class DerCursor {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(buf: Uint8Array, start: number, end: number) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** The contents of `t` as a cursor over its children. */
  static inside(buf: Uint8Array, t: Tlv): DerCursor {
    return new DerCursor(buf, t.valueStart, t.end);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  peekTag(): number | undefined {
    return this.done ? undefined : this.buf[this.pos];
  }

  next(): Tlv {
    const t = readTlv(this.buf, this.pos, this.end);
    this.pos = t.end;
    return t;
  }

  expect(tag: number, what: string): Tlv {
    if (this.done) throw new DerError(`${what} is missing`);
    const t = this.next();
    if (t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
    return t;
  }

  /** The next element if it has this tag, else nothing (for OPTIONAL and DEFAULT fields). */
  optional(tag: number): Tlv | undefined {
    return this.peekTag() === tag ? this.next() : undefined;
  }

  sequence(what: string): DerCursor {
    return DerCursor.inside(this.buf, this.expect(TAG.SEQUENCE, what));
  }

  finish(what: string): void {
    if (!this.done) throw new DerError(`${what} has unexpected extra elements`);
  }

  bytes(t: Tlv): Uint8Array {
    return this.buf.subarray(t.valueStart, t.end);
  }

  oid(what: string): string {
    return decodeOid(this.bytes(this.expect(TAG.OID, what)), what);
  }

  integer(what: string): Uint8Array {
    return checkInteger(this.bytes(this.expect(TAG.INTEGER, what)), what);
  }

  boolean(what: string): boolean {
    const v = this.bytes(this.expect(TAG.BOOLEAN, what));
    if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff)) throw new DerError(`${what}: a DER BOOLEAN is one byte 00 or FF`);
    return v[0] === 0xff;
  }

  /** A BIT STRING's bits as bytes; every bit must be used (keys and signatures). */
  bitStringBytes(what: string): Uint8Array {
    const v = this.bytes(this.expect(TAG.BIT_STRING, what));
    if (v.length === 0 || v[0] !== 0) throw new DerError(`${what}: expected a BIT STRING of whole bytes`);
    return v.subarray(1);
  }
}

/** A DER INTEGER's contents: non-empty and minimal (no redundant leading 00 or FF byte). */
export function checkInteger(v: Uint8Array, what: string): Uint8Array {
  if (v.length === 0) throw new DerError(`${what}: empty INTEGER`);
  if (v.length > 1 && ((v[0] === 0 && v[1] < 0x80) || (v[0] === 0xff && v[1] >= 0x80))) {
    throw new DerError(`${what}: INTEGER is not minimally encoded`);
  }
  return v;
}

/** Dotted text of an OBJECT IDENTIFIER's contents; each arc minimal, at most 2^53. */
export function decodeOid(v: Uint8Array, what: string): string {
  if (v.length === 0 || v.length > 64) throw new DerError(`${what}: bad OBJECT IDENTIFIER length`);
  const arcs: number[] = [];
  let value = 0;
  let first = true;
  for (let i = 0; i < v.length; i++) {
    const b = v[i];
    if (first && b === 0x80) throw new DerError(`${what}: OBJECT IDENTIFIER arc has a leading 0x80 (not DER)`);
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) throw new DerError(`${what}: OBJECT IDENTIFIER arc too large`);
    first = false;
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        const x = value < 80 ? Math.floor(value / 40) : 2;
        arcs.push(x, value - x * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
      first = true;
    }
  }
  if (!first) throw new DerError(`${what}: OBJECT IDENTIFIER ends inside an arc`);
  return arcs.join('.');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf16be = new TextDecoder('utf-16be', { fatal: true });

/** The text of a directory string or IA5String; other types, invalid UTF-8 or non-ASCII IA5 are errors. */
export function decodeString(buf: Uint8Array, t: Tlv, what: string): string {
  const v = buf.subarray(t.valueStart, t.end);
  try {
    switch (t.tag) {
      case TAG.UTF8_STRING:
        return utf8.decode(v);
      case TAG.PRINTABLE_STRING:
      case TAG.IA5_STRING:
        for (const b of v) if (b > 0x7e || b < 0x20) throw new DerError(`${what}: non-ASCII or control byte in a ${t.tag === TAG.IA5_STRING ? 'IA5String' : 'PrintableString'}`);
        return Buffer.from(v).toString('latin1');
      case TAG.TELETEX_STRING:
        return Buffer.from(v).toString('latin1');
      case TAG.BMP_STRING:
        if (v.length % 2 !== 0) throw new DerError(`${what}: odd-length BMPString`);
        return utf16be.decode(v);
      case TAG.UNIVERSAL_STRING: {
        if (v.length % 4 !== 0) throw new DerError(`${what}: UniversalString length is not a multiple of 4`);
        let s = '';
        for (let i = 0; i < v.length; i += 4) {
          const cp = ((v[i] << 24) | (v[i + 1] << 16) | (v[i + 2] << 8) | v[i + 3]) >>> 0;
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new DerError(`${what}: invalid character in a UniversalString`);
          s += String.fromCodePoint(cp);
        }
        return s;
      }
      default:
        throw new DerError(`${what}: tag 0x${t.tag.toString(16)} is not a string type`);
    }
  } catch (e) {
    if (e instanceof DerError) throw e;
    throw new DerError(`${what}: invalid text encoding`);
  }
}

/** A UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ), as DER requires them. */
export function decodeTime(buf: Uint8Array, t: Tlv, what: string): Date {
  const s = Buffer.from(buf.subarray(t.valueStart, t.end)).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (t.tag === TAG.UTC_TIME && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s))) {
    year = Number(m[1]);
    year += year < 50 ? 2000 : 1900;
  } else if (t.tag === TAG.GENERALIZED_TIME && (m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s))) {
    year = Number(m[1]);
  } else {
    throw new DerError(`${what}: not a DER UTCTime or GeneralizedTime`);
  }
  const d = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  if (d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3]) || d.getUTCHours() !== Number(m[4]) || d.getUTCMinutes() !== Number(m[5]) || d.getUTCSeconds() !== Number(m[6])) {
    throw new DerError(`${what}: not a valid date`);
  }
  return d;
}
