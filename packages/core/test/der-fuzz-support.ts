/**
 * Shared by the DER tests and scripts/fuzz-der.ts: an independent, lenient
 * TLV tree codec (so tests can rebuild a CSR with one rule broken), and
 * fast-check arbitraries of mutated and generated DER.
 */
import fc from 'fast-check';
import { ApiError } from '../src/errors.ts';

export interface DerNode {
  tag: number;
  /** Present for constructed tags (bit 0x20). */
  children?: DerNode[];
  value?: Buffer;
  /** Written as is in place of tag, length and contents. */
  raw?: Buffer;
}

/** Parses definite-length DER/BER into a tree (test inputs only: our own valid encodings). */
export function parseTree(buf: Buffer): DerNode {
  const [node, end] = parseAt(buf, 0);
  if (end !== buf.length) throw new Error('trailing bytes');
  return node;
}

function parseAt(buf: Buffer, pos: number): [DerNode, number] {
  const tag = buf[pos];
  let len = buf[pos + 1];
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i];
    start += n;
  }
  const end = start + len;
  if (tag & 0x20) {
    const children: DerNode[] = [];
    for (let p = start; p < end; ) {
      const [child, next] = parseAt(buf, p);
      children.push(child);
      p = next;
    }
    return [{ tag, children }, end];
  }
  return [{ tag, value: buf.subarray(start, end) }, end];
}

export function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Encodes a tree; `lengthOf` may replace any node's length bytes (to write non-DER lengths). */
export function encodeTree(node: DerNode, lengthOf?: (node: DerNode, length: number) => Buffer | undefined): Buffer {
  if (node.raw) return node.raw;
  const body = node.children ? Buffer.concat(node.children.map((c) => encodeTree(c, lengthOf))) : node.value ?? Buffer.alloc(0);
  return Buffer.concat([Buffer.from([node.tag]), lengthOf?.(node, body.length) ?? encodeLength(body.length), body]);
}

export const csrPem = (der: Uint8Array): string =>
  `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`;

export const certPem = (der: Uint8Array): string =>
  `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;

/** A sequence of edits to a valid encoding: flips, overwrites, inserts, deletes, truncation, repeats. */
export function mutatedDer(seeds: Buffer[]): fc.Arbitrary<Buffer> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.nat(255) }),
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }),
    // Length bytes are where parsers break: aim at small header values.
    fc.record({ kind: fc.constant('length' as const), at: fc.nat(), byte: fc.constantFrom(0x00, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x88, 0xff) }),
  );
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([seed, edits]) => {
    let b = Buffer.from(seed);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % b.length;
      switch (e.kind) {
        case 'set':
        case 'length':
          if (b.length) b[at] = e.byte;
          break;
        case 'flip':
          if (b.length) b[at] ^= 1 << e.bit;
          break;
        case 'insert':
          b = Buffer.concat([b.subarray(0, at), Buffer.from(e.bytes), b.subarray(at)]);
          break;
        case 'delete':
          b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.n)]);
          break;
        case 'truncate':
          b = b.subarray(0, at);
          break;
        case 'repeat':
          b = Buffer.concat([b.subarray(0, at + e.n), b.subarray(at)]);
          break;
      }
    }
    return b;
  });
}

/** Random TLV trees, some with wrong lengths, deep nesting or long-form headers. */
export function generatedDer(): fc.Arbitrary<Buffer> {
  const { node } = fc.letrec<{ node: Buffer }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.tuple(fc.constantFrom(0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x16, 0x17, 0x80, 0x82, 0x86, 0x87, 0x1f, 0x01), fc.uint8Array({ maxLength: 40 }))
        .map(([tag, v]) => Buffer.concat([Buffer.from([tag]), encodeLength(v.length), Buffer.from(v)])),
      fc.tuple(fc.constantFrom(0x30, 0x31, 0xa0, 0xa3, 0x24), fc.array(tie('node'), { maxLength: 5 }), fc.constantFrom('der', 'long', 'indefinite', 'short-by-one'))
        .map(([tag, kids, form]) => {
          const body = Buffer.concat(kids);
          const len = form === 'der' ? encodeLength(body.length)
            : form === 'long' ? Buffer.from([0x82, body.length >> 8, body.length & 0xff])
            : form === 'indefinite' ? Buffer.from([0x80])
            : encodeLength(Math.max(0, body.length - 1));
          return Buffer.concat([Buffer.from([tag]), len, body, form === 'indefinite' ? Buffer.from([0, 0]) : Buffer.alloc(0)]);
        }),
    ),
  }));
  const deep = fc.integer({ min: 1, max: 400 }).map(nestedSequences);
  return fc.oneof(node, deep);
}

/** NULL inside `depth` SEQUENCEs, built without recursion. */
export function nestedSequences(depth: number): Buffer {
  let b: Buffer = Buffer.from([0x05, 0x00]);
  for (let i = 0; i < depth; i++) b = Buffer.concat([Buffer.from([0x30]), encodeLength(b.length), b]);
  return b;
}

/** The only acceptable failure of a parser fed hostile input. */
export function isApiError400(e: unknown): boolean {
  return e instanceof ApiError && e.status === 400 && typeof e.message === 'string' && e.message.length > 0;
}
