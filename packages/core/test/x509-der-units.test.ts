/**
 * The DER reader and writer through their exported functions: each refusal with
 * its message, and the encodings DER allows only one way (minimal integers,
 * trailing-zero-free named bits, compressed IPv6, the UTCTime century window).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { checkDer, checkInteger, decodeOid, decodeString, decodeTime, DerCursor, DerError, MAX_DER_BYTES, readTlv, TAG } from '../src/x509/der/reader.ts';
import { namedBits, oid, sequence, set, tlv, unsignedInteger } from '../src/x509/der/writer.ts';
import { readName, readSubjectAltName, signatureDigest } from '../src/x509/der/x509-reader.ts';
import { ipBytes } from '../src/x509/der/certificate-writer.ts';
import { OID } from '../src/x509/der/oids.ts';
import { createCertificateAuthority } from '../src/x509/ca.ts';
import { parseCertificate, verifyIssuedBy } from '../src/x509/certificate.ts';
import { createCsr, parseCsr } from '../src/x509/csr.ts';
import { issueCertificate, issueServerTlsCertificate } from '../src/x509/issue.ts';
import { generateKeyPair, keyAlgorithmOf } from '../src/x509/keys.ts';
import { splitServiceName } from '../src/names.ts';
import { ApiError } from '../src/errors.ts';
import { certPem, csrPem, encodeTree, parseTree } from './der-fuzz-support.ts';
import { daysFromNow, now, pemToDer } from './x509-support.ts';

const der = (message: RegExp) => (e: unknown) => e instanceof DerError && message.test(e.message);
const badRequest = (message: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ApiError, `not an ApiError: ${e}`);
  assert.equal(e.status, 400);
  assert.match(e.message, message);
  return true;
};
/** The one element of `buf` as a Tlv. */
const whole = (buf: Buffer) => readTlv(buf, 0, buf.length);
const ed25519Public = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();

test('checkDer refuses input past the size limit and empty input before reading it', () => {
  assert.throws(() => checkDer(Buffer.alloc(MAX_DER_BYTES + 1)), der(/^larger than 65536 bytes$/));
  assert.throws(() => checkDer(Buffer.alloc(0)), der(/^empty input$/));
});

test('a cursor at its end has no optional element and reports a missing one by name', () => {
  const c = new DerCursor(Buffer.alloc(0), 0, 0);
  assert.equal(c.optional(TAG.INTEGER), undefined);
  assert.throws(() => c.expect(TAG.INTEGER, 'serialNumber'), der(/^serialNumber is missing$/));
});

test('INTEGER contents must be present and minimal', () => {
  assert.throws(() => checkInteger(new Uint8Array(0), 'serialNumber'), der(/^serialNumber: empty INTEGER$/));
  assert.throws(() => checkInteger(Uint8Array.from([0xff, 0x80]), 'serialNumber'), der(/not minimally encoded/));
  assert.deepEqual(checkInteger(Uint8Array.from([0x00, 0x80]), 'serialNumber'), Uint8Array.from([0x00, 0x80]));
});

test('OBJECT IDENTIFIERs: length bounds, arcs beyond 2^53, the joint-iso 2.x arc', () => {
  assert.throws(() => decodeOid(new Uint8Array(0), 'algorithm'), der(/^algorithm: bad OBJECT IDENTIFIER length$/));
  assert.throws(() => decodeOid(new Uint8Array(65).fill(1), 'algorithm'), der(/bad OBJECT IDENTIFIER length/));
  assert.throws(() => decodeOid(Uint8Array.from([0x2a, ...Array(8).fill(0xff), 0x7f]), 'algorithm'), der(/^algorithm: OBJECT IDENTIFIER arc too large$/));
  assert.throws(() => decodeOid(Uint8Array.from([0x2a, 0x81]), 'algorithm'), der(/ends inside an arc/));
  assert.equal(decodeOid(Uint8Array.from([0x88, 0x37]), 'algorithm'), '2.999');
  assert.equal(decodeOid(oid(OID.ecdsaWithSHA384).subarray(2), 'algorithm'), OID.ecdsaWithSHA384);
});

test('string types: TeletexString as Latin-1, BMP and Universal strings checked', () => {
  const teletex = tlv(TAG.TELETEX_STRING, Buffer.from([0x63, 0x61, 0x66, 0xe9]));
  assert.equal(decodeString(teletex, whole(teletex), 'CN'), 'café');
  const bmp = tlv(TAG.BMP_STRING, Buffer.from([0x00, 0x61, 0x00]));
  assert.throws(() => decodeString(bmp, whole(bmp), 'CN'), der(/^CN: odd-length BMPString$/));
  const universal = tlv(TAG.UNIVERSAL_STRING, Buffer.from([0, 0x11, 0, 0]));
  assert.throws(() => decodeString(universal, whole(universal), 'CN'), der(/^CN: invalid character in a UniversalString$/));
  const printable = tlv(TAG.PRINTABLE_STRING, Buffer.from('a\nb'));
  assert.throws(() => decodeString(printable, whole(printable), 'CN'), der(/^CN: non-ASCII or control byte in a PrintableString$/));
});

test('times: the UTCTime century window, GeneralizedTime, and dates that do not exist', () => {
  const time = (tag: number, s: string) => {
    const b = tlv(tag, Buffer.from(s, 'latin1'));
    return decodeTime(b, whole(b), 'notAfter');
  };
  assert.equal(time(TAG.UTC_TIME, '991231235959Z').toISOString(), '1999-12-31T23:59:59.000Z');
  assert.equal(time(TAG.UTC_TIME, '490101000000Z').toISOString(), '2049-01-01T00:00:00.000Z');
  assert.equal(time(TAG.GENERALIZED_TIME, '20500101000000Z').toISOString(), '2050-01-01T00:00:00.000Z');
  // Month 13, 30 February, hour 24, minute 60, second 60: Date.UTC would roll each over silently.
  for (const s of ['231301000000Z', '230230000000Z', '230101240000Z', '230101006000Z', '230101000060Z']) {
    assert.throws(() => time(TAG.UTC_TIME, s), der(/^notAfter: not a valid date$/), s);
  }
  assert.throws(() => time(TAG.UTC_TIME, '2301010000Z'), der(/^notAfter: not a DER UTCTime or GeneralizedTime$/));
  assert.throws(() => time(TAG.GENERALIZED_TIME, '230101000000Z'), der(/not a DER UTCTime or GeneralizedTime/));
});

test('names: an empty RDN and an attribute without a value are refused; a non-string value of another attribute is kept as #hex', () => {
  const name = (...rdns: Buffer[]) => {
    const b = sequence(...rdns);
    return readName(b, whole(b), 'subject');
  };
  assert.throws(() => name(set()), der(/^subject: empty RDN$/));
  assert.throws(() => name(set(sequence(oid(OID.commonName)))), der(/^subject: attribute without a value$/));
  const dc = name(set(sequence(oid('0.9.2342.19200300.100.1.25'), tlv(TAG.INTEGER, Buffer.from([1])))), set(sequence(oid(OID.commonName), tlv(TAG.UTF8_STRING, Buffer.from('sports.api')))));
  assert.deepEqual(dc, { commonName: 'sports.api', attributes: [{ type: 'DC', value: '#020101' }, { type: 'CN', value: 'sports.api' }] });
});

test('subjectAltName: the kinds we do not act on are skipped, an unknown tag is refused, IPv6 is written compressed', () => {
  const ip = (text: string) => readSubjectAltName(sequence(tlv(0x87, ipBytes(text)))).ipAddresses[0];
  const san = readSubjectAltName(sequence(
    tlv(0xa0, oid('1.3.6.1.4.1.311.20.2.3'), tlv(0xa0, tlv(TAG.UTF8_STRING, Buffer.from('x')))),
    tlv(0x88, oid('1.2.3.4')),
    tlv(0x82, Buffer.from('api.sports.example')),
  ));
  assert.deepEqual(san, { dnsNames: ['api.sports.example'], uris: [], ipAddresses: [], emails: [] });
  assert.throws(() => readSubjectAltName(sequence(tlv(0x89, Buffer.from([1])))), der(/^subjectAltName: unknown GeneralName tag 0x89$/));
  assert.throws(() => readSubjectAltName(sequence(tlv(0x82, Buffer.from('api\u00e9', 'latin1')))), der(/^SAN DNS name has a non-ASCII or control byte$/));
  assert.equal(ip('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2:3:4:5:6');
  assert.equal(ip('2001:0:1:2:3:4:5:6'), '2001:0:1:2:3:4:5:6'); // a single zero group is not compressed
  assert.equal(ip('2001:db8::1'), '2001:db8::1');
  assert.equal(ip('::'), '::');
  assert.equal(ip('::1'), '::1');
  assert.equal(ip('fe80::'), 'fe80::');
  assert.equal(ip('::ffff:10.0.0.1'), '::ffff:a00:1');
  assert.equal(ip('10.0.0.7'), '10.0.0.7');
});

test('signature algorithms: SHA-384 and SHA-512 variants, Ed25519, and unknown ones', () => {
  assert.equal(signatureDigest(OID.sha384WithRSAEncryption), 'sha384');
  assert.equal(signatureDigest(OID.ecdsaWithSHA384), 'sha384');
  assert.equal(signatureDigest(OID.sha512WithRSAEncryption), 'sha512');
  assert.equal(signatureDigest('1.3.101.112'), null);
  assert.equal(signatureDigest('1.2.840.113549.1.1.5'), undefined); // SHA-1 with RSA: not verified
});

test('the writer encodes integers and named bits minimally', () => {
  assert.equal(unsignedInteger(Uint8Array.from([0, 0, 0])).toString('hex'), '020100');
  assert.equal(unsignedInteger(new Uint8Array(0)).toString('hex'), '020100');
  assert.equal(unsignedInteger(Uint8Array.from([0, 0, 0x80])).toString('hex'), '02020080');
  assert.equal(unsignedInteger(Uint8Array.from([0, 0x7f])).toString('hex'), '02017f');
  assert.equal(namedBits([]).toString('hex'), '030100');
  assert.equal(namedBits([0, 2]).toString('hex'), '030205a0'); // digitalSignature + keyEncipherment: 5 unused bits
});

test('certificates: an unknown version and a missing notAfter are 400s that say so', async () => {
  const ca = await createCertificateAuthority({ commonName: 'Units CA', alg: 'ec', validityDays: 1, now });
  const tbs = (t: ReturnType<typeof parseTree>) => t.children![0];
  let t = parseTree(pemToDer(ca.certPem));
  tbs(t).children![0].children![0].value = Buffer.from([3]);
  assert.throws(() => parseCertificate(certPem(encodeTree(t))), badRequest(/^Unable to parse the certificate \(unknown certificate version\)/));
  t = parseTree(pemToDer(ca.certPem));
  tbs(t).children![4].children!.pop();
  assert.throws(() => parseCertificate(certPem(encodeTree(t))), badRequest(/^Unable to parse the certificate \(notAfter is missing\)/));
  assert.throws(() => parseCertificate(undefined as unknown as string), badRequest(/^Unable to parse the certificate: send a PEM X.509 "CERTIFICATE"$/));
});

test('verifyIssuedBy: an unreadable certificate is a 400; a same-named CA of another key kind is not the issuer', async () => {
  const ec = await createCertificateAuthority({ commonName: 'Twin CA', alg: 'ec', validityDays: 1, now });
  const rsa = await createCertificateAuthority({ commonName: 'Twin CA', alg: 'rsa', validityDays: 1, now });
  const issued = await issueCertificate({
    ca: rsa, publicKeyPem: generateKeyPair('ec').publicKeyPem, subject: { commonName: 'sports.api' },
    notBefore: now, notAfter: daysFromNow(1), usage: 'client',
  });
  assert.equal(await verifyIssuedBy(issued.certPem, rsa.certPem), true);
  assert.equal(await verifyIssuedBy(issued.certPem, ec.certPem), false);
  await assert.rejects(verifyIssuedBy('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', ec.certPem), badRequest(/^Unable to parse the certificate: send a PEM X.509 "CERTIFICATE"$/));
});

test('issuing: an Ed25519 key, an unknown usage and a server certificate without host names are refused', async () => {
  const ca = await createCertificateAuthority({ commonName: 'Units CA', alg: 'ec', validityDays: 1, now });
  const base = { ca, publicKeyPem: generateKeyPair('ec').publicKeyPem, subject: { commonName: 'sports.api' }, notBefore: now, notAfter: daysFromNow(1), usage: 'client' as const };
  await assert.rejects(issueCertificate({ ...base, publicKeyPem: ed25519Public }), badRequest(/^The public key to certify is neither RSA nor EC$/));
  await assert.rejects(issueCertificate({ ...base, usage: 'both' as 'client' }), badRequest(/^Unknown certificate usage "both"$/));
  await assert.rejects(issueServerTlsCertificate(ca, { hostnames: [''], ips: [], validityDays: 1, now }), /the server TLS certificate needs at least one host name/);
  assert.throws(() => keyAlgorithmOf(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), /^Error: unsupported key type ed25519: use EC P-256 or RSA$/);
});

test('CSRs: the legacy NEW CERTIFICATE REQUEST label parses; a signature algorithm of the other key family does not verify', async () => {
  const pem = await createCsr({ keyPem: generateKeyPair('ec').privateKeyPem, subject: { commonName: 'sports.api' } });
  const legacy = pem.replace(/-----(BEGIN|END) CERTIFICATE REQUEST-----/g, '-----$1 NEW CERTIFICATE REQUEST-----');
  const parsed = await parseCsr(legacy);
  assert.equal(parsed.commonName, 'sports.api');
  assert.equal(parsed.signatureValid, true);
  // The EC CSR relabelled as signed with sha256WithRSAEncryption.
  const t = parseTree(pemToDer(pem));
  t.children![1].children![0].value = oid(OID.sha256WithRSAEncryption).subarray(2);
  const relabelled = await parseCsr(csrPem(encodeTree(t)));
  assert.equal(relabelled.signatureValid, false);
});

test('splitServiceName needs a domain and a service around the last dot', () => {
  assert.deepEqual(splitServiceName('sports.prod.api'), { domain: 'sports.prod', service: 'api' });
  assert.equal(splitServiceName('.api'), null);
  assert.equal(splitServiceName('sports.'), null);
  assert.equal(splitServiceName('sports'), null);
});
