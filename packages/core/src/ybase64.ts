/**
 * Athenz YBase64: base64 with `+`→`.`, `/`→`_`, `=`→`-`, so the value is safe
 * in URLs and Athenz names. ZMS stores service public keys (PEM) this way.
 */
export function ybase64Encode(text: string | Buffer): string {
  return Buffer.from(text).toString('base64').replace(/\+/g, '.').replace(/\//g, '_').replace(/=/g, '-');
}

export function ybase64Decode(value: string): string {
  return Buffer.from(value.replace(/\./g, '+').replace(/_/g, '/').replace(/-/g, '='), 'base64').toString('utf8');
}
