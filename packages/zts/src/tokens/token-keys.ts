/**
 * ZTS's token signing keys: a directory of PEM private keys. `current.key.pem`
 * signs; every other `*.key.pem` beside it is a previous key, still published
 * in the JWKS so that tokens it signed verify until they expire. The key id
 * is the key's RFC 7638 thumbprint, so it is the same after a restart and on
 * every replica that shares the directory.
 *
 * Rotation (docs/relying-party.md): rename current.key.pem to, say,
 * previous-2026-11.key.pem and restart; a new current key is created. Remove
 * the previous key once the longest token it signed has expired.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFile } from '@tessera/core/x509/ca';

export type TokenAlg = 'ES256' | 'RS256';

export interface TokenKey {
  kid: string;
  alg: TokenAlg;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Athenz's JWK (ZTS.rdl JWK): EC or RSA public key with its id. */
export interface Jwk {
  kty: string;
  kid: string;
  alg: string;
  use: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

export interface TokenKeys {
  /** The key new tokens are signed with. */
  current: TokenKey;
  /** Every key a verifier may meet: the current one first. */
  published: TokenKey[];
}

export const CURRENT_KEY_FILE = 'current.key.pem';

function algOf(key: KeyObject, file: string): TokenAlg {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error(`token signing key ${file}: only EC P-256 and RSA keys are supported`);
}

/** RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order. */
export function jwkThumbprint(publicKey: KeyObject): string {
  const j = publicKey.export({ format: 'jwk' });
  const members = j.kty === 'EC' ? { crv: j.crv, kty: j.kty, x: j.x, y: j.y } : { e: j.e, kty: j.kty, n: j.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function readKey(path: string): TokenKey {
  const privateKey = createPrivateKey(readFileSync(path));
  const publicKey = createPublicKey(privateKey);
  return { kid: jwkThumbprint(publicKey), alg: algOf(privateKey, path), privateKey, publicKey };
}

/** Loads the directory, creating it and an EC P-256 current key (0600) on first start. */
export function loadTokenKeys(dir: string): TokenKeys {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const currentPath = join(dir, CURRENT_KEY_FILE);
  if (!existsSync(currentPath)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writePrivateFile(currentPath, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  }
  const current = readKey(currentPath);
  const previous = readdirSync(dir)
    .filter((f) => f.endsWith('.key.pem') && f !== CURRENT_KEY_FILE)
    .sort()
    .map((f) => readKey(join(dir, f)))
    .filter((k) => k.kid !== current.kid);
  return { current, published: [current, ...previous] };
}

/**
 * Java's BigInteger.toByteArray: the minimal two's-complement bytes, so a
 * leading zero byte appears when the top bit is set. Athenz's JWKS without
 * `rfc=true` encodes EC coordinates and RSA numbers this way.
 */
function javaBigIntegerBytes(b64url: string): string {
  let bytes = Buffer.from(b64url, 'base64url');
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  bytes = bytes.subarray(i);
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return bytes.toString('base64url');
}

/**
 * One key as Athenz's JWK. `rfc` (Athenz's `rfc=true`): curve `P-256` and
 * fixed-length coordinates as RFC 7518 requires, which JWT libraries expect.
 * Without it: Athenz's older form, curve `prime256v1` and Java integer bytes.
 */
export function toJwk(k: TokenKey, rfc: boolean): Jwk {
  const j = k.publicKey.export({ format: 'jwk' });
  const base = { kid: k.kid, alg: k.alg, use: 'sig' };
  if (j.kty === 'EC') {
    return rfc
      ? { kty: 'EC', ...base, crv: 'P-256', x: j.x, y: j.y }
      : { kty: 'EC', ...base, crv: 'prime256v1', x: javaBigIntegerBytes(j.x!), y: javaBigIntegerBytes(j.y!) };
  }
  return rfc ? { kty: 'RSA', ...base, n: j.n, e: j.e } : { kty: 'RSA', ...base, n: javaBigIntegerBytes(j.n!), e: javaBigIntegerBytes(j.e!) };
}

export function jwkList(keys: TokenKeys, rfc: boolean): { keys: Jwk[] } {
  return { keys: keys.published.map((k) => toJwk(k, rfc)) };
}
