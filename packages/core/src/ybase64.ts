/**
 * Athenz YBase64: base64 with `+`→`.`, `/`→`_`, `=`→`-`, so the value is safe
 * in URLs and Athenz names. ZMS stores service public keys (PEM) this way.
 */
export function ybase64Encode(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64').replace(/\+/g, '.').replace(/\//g, '_').replace(/=/g, '-');
}

// Line breaks are tolerated because some Athenz clients wrap their output.
const YBASE64 = /^[A-Za-z0-9._]*-{0,2}$/;

/** The decoded bytes; throws on characters outside the YBase64 alphabet, which plain base64 decoding would skip silently. */
export function ybase64DecodeBytes(value: string): Buffer {
  const compact = value.replace(/[\r\n]/g, '');
  if (!YBASE64.test(compact) || compact.length % 4 === 1) throw new Error('not a YBase64 value');
  return Buffer.from(compact.replace(/\./g, '+').replace(/_/g, '/').replace(/-/g, '='), 'base64');
}

export function ybase64Decode(value: string): string {
  return ybase64DecodeBytes(value).toString('utf8');
}
