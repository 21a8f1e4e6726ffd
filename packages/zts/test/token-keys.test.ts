/**
 * Token signing keys from their directory: RSA and EC P-256 keys, the refusal
 * of other kinds, and the two JWK forms (RFC 7518 and Athenz's Java-integer
 * bytes) checked against the key itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CURRENT_KEY_FILE, jwkList, loadTokenKeys, type TokenKey } from '../src/tokens/token-keys.ts';

const pkcs8 = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();

function withKeyDir<T>(files: Record<string, string>, fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-token-keys-'));
  try {
    for (const [name, pem] of Object.entries(files)) writeFileSync(join(dir, name), pem);
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The unsigned magnitude of a base64url integer, whatever leading zero bytes it carries. */
const magnitude = (b64url: string) => BigInt(`0x${Buffer.from(b64url, 'base64url').toString('hex') || '0'}`);

test('an RSA current key signs RS256 and is published in both JWK forms; the legacy form keeps the sign byte', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  withKeyDir({ [CURRENT_KEY_FILE]: pkcs8(privateKey) }, (dir) => {
    const keys = loadTokenKeys(dir);
    assert.equal(keys.current.alg, 'RS256');
    const [rfc] = jwkList(keys, true).keys;
    const [legacy] = jwkList(keys, false).keys;
    assert.deepEqual({ kty: rfc.kty, alg: rfc.alg, kid: rfc.kid }, { kty: 'RSA', alg: 'RS256', kid: keys.current.kid });
    // A 2048-bit modulus has its top bit set: Java's BigInteger bytes add a 00 in front.
    assert.equal(Buffer.from(rfc.n!, 'base64url').length, 256);
    assert.equal(Buffer.from(legacy.n!, 'base64url').length, 257);
    assert.equal(magnitude(legacy.n!), magnitude(rfc.n!));
    assert.equal(legacy.e, rfc.e, 'e = 65537 has no top bit set: the same bytes');
    // The RFC form is a key node reads back as the same public key.
    const back = createPublicKey({ key: { kty: 'RSA', n: rfc.n, e: rfc.e }, format: 'jwk' });
    assert.ok(back.equals(keys.current.publicKey));
  });
});

test('EC coordinates: the legacy form drops leading zero bytes and adds a sign byte for a top bit, the RFC form is 32 bytes', () => {
  // Generate until one key's x starts with a 00 byte and another's has its top bit set.
  const seen = { zero: false, top: false };
  for (let i = 0; i < 5000 && !(seen.zero && seen.top); i++) {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const x = Buffer.from(jwk.x!, 'base64url');
    if (x[0] !== 0 && x[0] < 0x80) continue;
    const key: TokenKey = { kid: 'k1', alg: 'ES256', privateKey: publicKey, publicKey };
    const [rfc] = jwkList({ current: key, published: [key] }, true).keys;
    const [legacy] = jwkList({ current: key, published: [key] }, false).keys;
    assert.equal(rfc.crv, 'P-256');
    assert.equal(legacy.crv, 'prime256v1');
    assert.equal(Buffer.from(rfc.x!, 'base64url').length, 32);
    // Java's BigInteger.toByteArray: the minimal bytes of the magnitude, with a 00 in front when its top bit is set.
    let hex = magnitude(rfc.x!).toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    if (parseInt(hex[0], 16) >= 8) hex = `00${hex}`;
    assert.equal(Buffer.from(legacy.x!, 'base64url').toString('hex'), hex);
    if (x[0] === 0) seen.zero = true;
    else seen.top = true;
    assert.equal(magnitude(legacy.x!), magnitude(rfc.x!));
  }
  assert.deepEqual(seen, { zero: true, top: true });
});

test('keys other than RSA and EC P-256 are refused by file name; previous keys stay published after the current one', () => {
  const ed = pkcs8(generateKeyPairSync('ed25519').privateKey);
  const p384 = pkcs8(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey);
  withKeyDir({ [CURRENT_KEY_FILE]: ed }, (dir) => {
    assert.throws(() => loadTokenKeys(dir), { message: `token signing key ${join(dir, CURRENT_KEY_FILE)}: only EC P-256 and RSA keys are supported` });
  });
  withKeyDir({ 'old.key.pem': p384 }, (dir) => {
    assert.throws(() => loadTokenKeys(dir), { message: `token signing key ${join(dir, 'old.key.pem')}: only EC P-256 and RSA keys are supported` });
  });
  const rsa = pkcs8(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  withKeyDir({ 'old.key.pem': rsa }, (dir) => {
    const keys = loadTokenKeys(dir); // creates an EC current key beside the old RSA one
    assert.deepEqual(keys.published.map((k) => k.alg), ['ES256', 'RS256']);
    assert.equal(keys.published[0], keys.current);
  });
});
