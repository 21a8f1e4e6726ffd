/** The principal token rules on their own: the edges the server tests do not reach. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync } from 'node:crypto';
import { authorizedServiceOf, serviceKeys, splitToken, strictYbase64, verifyUserPart } from '../src/principal-token.ts';
import { ybase64Encode } from '../src/ybase64.ts';

const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const x25519 = generateKeyPairSync('x25519');
const sign = (u: string) => `${u};s=${ybase64Encode(createSign('sha256').update(u).sign(ec.privateKey))}`;
const now = Math.floor(Date.now() / 1000);
const claims = `v=U1;d=user;n=jane;a=01;t=${now};e=${now + 600};k=0`;
const check = (token: string, key = ec.publicKey) => {
  const parts = splitToken(token);
  return parts && verifyUserPart(parts, () => key);
};

test('a token signed with the key is read; its services are listed', () => {
  assert.equal(check(sign(claims))?.principal, 'user.jane');
  assert.deepEqual(check(sign(`${claims};b=a.b,c.d`))?.authorizedServices, ['a.b', 'c.d']);
});

test('refused: an empty service in b=, a key that cannot verify, a non-canonical signature, an oversized token', () => {
  assert.equal(check(sign(`${claims};b=a.b,,c.d`)), undefined);
  assert.equal(check(sign(claims), x25519.publicKey), undefined, 'a key of a type that cannot verify ECDSA');
  assert.equal(strictYbase64('ab=='), undefined, 'padding in the wrong alphabet');
  assert.equal(strictYbase64('abd-'), undefined, 'padding that does not re-encode to itself');
  assert.equal(splitToken(`${sign(claims)};bk=0;bs=${'x'.repeat(4096)}`), undefined);
  assert.equal(splitToken(`${sign(claims)};bk=0;bs=ab==`), undefined, 'a service signature that is not YBase64');
});

test('service keys: names without a domain, keys that do not parse, and a full cache', () => {
  const pem = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const services = [
    { name: 'a.ok', publicKeys: [{ id: '0', key: ybase64Encode(pem) }] },
    { name: 'a.bad', publicKeys: [{ id: '0', key: ybase64Encode('not a key') }] },
  ];
  const keys = serviceKeys((d) => (d === 'a' ? { services } : undefined));
  assert.ok(keys('a.ok', '0'));
  assert.equal(keys('a.ok', '1'), undefined);
  assert.equal(keys('a.bad', '0'), undefined);
  assert.equal(keys('nodot', '0'), undefined);
  assert.equal(keys('a.', '0'), undefined);
  assert.equal(keys('b.x', '0'), undefined);
  // 300 distinct key texts (the same key with more trailing newlines): the cache empties itself and still answers.
  const many = Array.from({ length: 300 }, (_, i) => ({ name: `m.s${i}`, publicKeys: [{ id: '0', key: ybase64Encode(pem + '\n'.repeat(i)) }] }));
  const lookup = serviceKeys(() => ({ services: many }));
  for (const s of many) assert.ok(lookup(s.name, '0'), s.name);
});

test('authorized service: a key of the wrong type is a refusal, not an exception', () => {
  const token = sign(`${claims};b=a.ok`);
  const data = `${token};bk=0`;
  const chained = `${data};bs=${ybase64Encode(createSign('sha256').update(data).sign(ec.privateKey))}`;
  const parts = splitToken(chained)!;
  const checked = { ...verifyUserPart(parts, () => ec.publicKey)!, serviceSignature: parts.service! };
  assert.equal(authorizedServiceOf(checked, ['a.ok'], () => ec.publicKey), 'a.ok');
  assert.equal(authorizedServiceOf(checked, ['a.ok'], () => x25519.publicKey), undefined);
  assert.equal(authorizedServiceOf(checked, ['a.ok'], () => undefined), undefined);
  assert.equal(authorizedServiceOf(checked, [], () => ec.publicKey), undefined, 'off the allow-list');
  assert.equal(authorizedServiceOf({ ...checked, authorizedServices: undefined }, ['a.ok'], () => ec.publicKey), undefined, 'a signature without b=');
});
