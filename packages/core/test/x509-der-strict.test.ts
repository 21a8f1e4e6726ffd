/** The strict DER reader: every encoding rule a CSR or certificate can break is a 400 that says which. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCsr, parseCsr } from '../src/x509/csr.ts';
import { createCertificateAuthority } from '../src/x509/ca.ts';
import { parseCertificate } from '../src/x509/certificate.ts';
import { generateKeyPair } from '../src/x509/keys.ts';
import { ApiError } from '../src/errors.ts';
import { now, pemToDer } from './x509-support.ts';
import { certPem, csrPem, encodeLength, encodeTree, nestedSequences, parseTree, type DerNode } from './der-fuzz-support.ts';

const valid = pemToDer(await createCsr({
  keyPem: generateKeyPair('ec').privateKeyPem,
  subject: { commonName: 'sports.api', organizationalUnit: 'athenz.aws.us-west-2' },
  dnsNames: ['api.sports.aws.athenz.cloud'],
  uris: ['spiffe://sports/sa/api'],
}));

/** A fresh tree of the valid CSR: [info [version, subject, spki, attributes], signatureAlgorithm, signature]. */
const tree = (): DerNode => parseTree(Buffer.from(valid));
const info = (t: DerNode) => t.children![0];
const attributes = (t: DerNode) => info(t).children![3];
/** The extensionRequest's Extensions SEQUENCE. */
const extensions = (t: DerNode) => attributes(t).children![0].children![1].children![0];
const cn = (t: DerNode) => info(t).children![1].children!.at(-1)!.children![0].children![1];

async function rejects(der: Buffer, reason: RegExp): Promise<void> {
  await assert.rejects(parseCsr(csrPem(der)), (e: unknown) => {
    assert.ok(e instanceof ApiError, `not an ApiError: ${e}`);
    assert.equal(e.status, 400);
    assert.match(e.message, /^Unable to parse the CSR \(/);
    assert.match(e.message, reason);
    assert.match(e.message, /send a PEM "CERTIFICATE REQUEST"$/);
    return true;
  });
}

test('the unmodified CSR parses, and re-encoding the tree gives the same bytes', async () => {
  assert.deepEqual(encodeTree(tree()), valid);
  assert.equal((await parseCsr(csrPem(valid))).signatureValid, true);
});

test('non-minimal lengths are refused', async () => {
  // The outer length with a leading zero byte: 30 83 00 LL LL.
  let t = tree();
  const root = t;
  await rejects(encodeTree(t, (n, len) => (n === root ? Buffer.from([0x83, 0, len >> 8, len & 0xff]) : undefined)), /leading zero/);
  // The version INTEGER with a long-form length for one byte: 02 81 01 00.
  t = tree();
  const version = info(t).children![0];
  await rejects(encodeTree(t, (n) => (n === version ? Buffer.from([0x81, 0x01]) : undefined)), /long-form length for a short length/);
});

test('indefinite lengths are refused', async () => {
  const body = valid.subarray(4); // after 30 82 LL LL
  await rejects(Buffer.concat([Buffer.from([0x30, 0x80]), body, Buffer.from([0, 0])]), /indefinite length/);
});

test('trailing bytes and truncation are refused', async () => {
  await rejects(Buffer.concat([valid, Buffer.from([0])]), /trailing bytes/);
  await rejects(Buffer.concat([valid, valid]), /trailing bytes/);
  await rejects(valid.subarray(0, valid.length - 1), /runs past its container/);
  await rejects(valid.subarray(0, 1), /truncated element header/);
  await rejects(valid.subarray(0, 3), /truncated length/);
});

test('deep nesting is refused without recursion', async () => {
  const nested: DerNode = { tag: 0x30, raw: nestedSequences(5000) };
  const t = tree();
  attributes(t).children!.push({ tag: 0x30, children: [{ tag: 0x06, value: Buffer.from([0x2a, 0x03]) }, { tag: 0x31, children: [nested] }] });
  await rejects(encodeTree(t), /nested deeper than 16 levels/);
});

test('huge sizes are refused before anything is read', async () => {
  await rejects(Buffer.concat([Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), valid.subarray(4)]), /length is too large/);
  await rejects(Buffer.concat([Buffer.from([0x30, 0x83, 0xff, 0xff, 0xff]), valid.subarray(4)]), /runs past its container/);
  // A PEM body longer than any CSR is refused before decoding.
  await assert.rejects(parseCsr(csrPem(Buffer.alloc(60_000))), (e) => e instanceof ApiError && e.status === 400 && /Unable to parse the CSR/.test(e.message));
});

test('non-DER primitives are refused: padded INTEGER, BOOLEAN other than 00/FF, OID with 0x80, high tag numbers, tag 0', async () => {
  let t = tree();
  info(t).children![0].value = Buffer.from([0, 0]);
  await rejects(encodeTree(t), /version: INTEGER is not minimally encoded/);

  t = tree();
  const san = extensions(t).children![0];
  san.children!.splice(1, 0, { tag: 0x01, value: Buffer.from([0x01]) });
  await rejects(encodeTree(t), /BOOLEAN is one byte 00 or FF/);

  t = tree();
  info(t).children![1].children![0].children![0].children![0].value = Buffer.from([0x55, 0x80, 0x04, 0x03]);
  await rejects(encodeTree(t), /leading 0x80/);

  t = tree();
  info(t).children![1].children![0].children![0].children![1].tag = 0x1f;
  await rejects(encodeTree(t), /high tag numbers/);

  // An end-of-contents marker inside an attribute that is otherwise skipped.
  t = tree();
  attributes(t).children!.push({ tag: 0x30, children: [{ tag: 0x06, value: Buffer.from([0x2a, 0x03]) }, { tag: 0x31, children: [{ tag: 0x00, value: Buffer.alloc(0) }] }] });
  await rejects(encodeTree(t), /end-of-contents marker/);
});

test('ambiguous content is refused: two SAN extensions, a repeated extension, bad UTF-8, a 5-byte IP, a non-string CN', async () => {
  let t = tree();
  extensions(t).children!.push(extensions(t).children![0]);
  await rejects(encodeTree(t), /appears more than once/);

  t = tree();
  const second: DerNode = { tag: 0x30, children: [{ tag: 0x06, value: Buffer.from([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e]) }, { tag: 0x31, children: [extensions(t)] }] };
  attributes(t).children!.push(second);
  await rejects(encodeTree(t), /several subjectAltName extensions/);

  t = tree();
  Object.assign(cn(t), { tag: 0x0c, value: Buffer.from([0x73, 0xc3, 0x28]) });
  await rejects(encodeTree(t), /subject commonName: invalid text encoding/);

  t = tree();
  Object.assign(cn(t), { tag: 0x02, value: Buffer.from([1]) });
  await rejects(encodeTree(t), /not a string type/);

  t = tree();
  const sanValue = extensions(t).children![0].children![1];
  const names = parseTree(sanValue.value!);
  names.children!.push({ tag: 0x87, value: Buffer.from([10, 0, 0, 1, 5]) });
  sanValue.value = encodeTree(names);
  await rejects(encodeTree(t), /SAN IP address of 5 bytes/);
});

test('a certificate with a broken encoding is a 400 from parseCertificate too', async () => {
  const ca = await createCertificateAuthority({ commonName: 'Strict CA', alg: 'ec', validityDays: 1, now });
  const der = pemToDer(ca.certPem);
  assert.equal(parseCertificate(certPem(der)).commonName, 'Strict CA');
  for (const [bad, reason] of [
    [Buffer.concat([der, Buffer.from([0])]), /trailing bytes/],
    [der.subarray(0, der.length - 2), /runs past/],
    [Buffer.concat([Buffer.from([0x30, 0x80]), der.subarray(2 + (der[1] & 0x7f)), Buffer.from([0, 0])]), /indefinite/],
  ] as const) {
    assert.throws(() => parseCertificate(certPem(bad)), (e: unknown) => e instanceof ApiError && e.status === 400 && /^Unable to parse the certificate \(/.test(e.message) && reason.test(e.message));
  }
  assert.equal(encodeLength(300).toString('hex'), '82012c');
});
