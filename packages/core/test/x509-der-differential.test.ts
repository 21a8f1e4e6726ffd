/**
 * The DER hot path against independent readers and the previous implementation:
 * every certificate issueCertificate writes is rebuilt with @peculiar/x509's
 * generator from the same inputs and serial (the code issueCertificate used
 * before the DER writer), and the two TBSCertificates must be byte for byte
 * the same; @peculiar/x509 and openssl read every field back, and openssl
 * verifies the chain. parseCsr is compared with @peculiar/x509 on CSRs from
 * createCsr and from `openssl req`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { x509 } from '../src/x509/provider.ts';
import { createCertificateAuthority, type CertificateAuthority } from '../src/x509/ca.ts';
import { issueCertificate, type CertificateUsage, type IssueRequest } from '../src/x509/issue.ts';
import { createCsr, parseCsr } from '../src/x509/csr.ts';
import { importPrivateKey, keyAlgorithmOf, signingAlgorithm } from '../src/x509/keys.ts';
import { generalNames, subjectName, type Subject } from '../src/x509/names.ts';
import { parseCertificate } from '../src/x509/certificate.ts';
import { now, openssl, opensslOk } from './x509-support.ts';
import { encodeTree, parseTree } from './der-fuzz-support.ts';

type SubjectKey = 'ec-p256' | 'ec-p384' | 'rsa-2048';

function keyPair(kind: SubjectKey): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = kind === 'rsa-2048'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: kind === 'ec-p256' ? 'P-256' : 'P-384' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const EKU: Record<CertificateUsage, string[]> = {
  'client-server': [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  server: [x509.ExtendedKeyUsage.serverAuth],
  client: [x509.ExtendedKeyUsage.clientAuth],
};

/** The certificate as the @peculiar/x509 generator made it before the DER writer, with the same serial. */
async function referenceCertificate(r: IssueRequest, serialHex: string, notBefore: Date, notAfter: Date): Promise<x509.X509Certificate> {
  const caCert = new x509.X509Certificate(r.ca.certPem);
  const publicKey = new x509.PublicKey(createPublicKey(r.publicKeyPem).export({ type: 'spki', format: 'der' }));
  const names = generalNames(r);
  const s = r.subject;
  return x509.X509CertificateGenerator.create({
    serialNumber: serialHex,
    subject: subjectName(s),
    issuer: caCert.subjectName,
    notBefore,
    notAfter,
    publicKey,
    signingKey: await importPrivateKey(r.ca.keyPem),
    signingAlgorithm: signingAlgorithm(keyAlgorithmOf(r.ca.keyPem)),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        createPublicKey(r.publicKeyPem).asymmetricKeyType === 'rsa'
          ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
          : x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(EKU[r.usage]),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, !s.commonName && !s.organizationalUnit && !s.organization && !s.country)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      ...(r.crlDistributionPoint ? [new x509.CRLDistributionPointsExtension([r.crlDistributionPoint])] : []),
    ],
  });
}

/** The TBSCertificate bytes, cut out by the test's own TLV codec. */
const tbsOf = (c: x509.X509Certificate): Buffer => encodeTree(parseTree(Buffer.from(c.rawData)).children![0]);

/** `openssl x509 -text` without the signature value, which differs between two signatures of the same TBS. */
function opensslText(pem: string): string {
  const text = opensslOk(['x509', '-in', 'c.pem', '-noout', '-text'], { 'c.pem': pem });
  return text.replace(/Signature Value:\n(\s+[0-9a-f:]+\n)+/, 'Signature Value: (omitted)\n');
}

interface Case {
  kind: string;
  subject: Subject;
  names: Pick<IssueRequest, 'dnsNames' | 'ipAddresses' | 'uris' | 'emails'>;
  usage: CertificateUsage;
  crl?: string;
  purpose: 'sslclient' | 'sslserver';
}

const CASES: Case[] = [
  {
    kind: 'service (every SAN kind, CDP)',
    subject: { commonName: 'sports.api', organizationalUnit: 'athenz.aws.us-west-2', organization: 'Sports, Inc.', country: 'US' },
    names: {
      dnsNames: ['api.sports.aws.athenz.cloud', 'i-0abc.instanceid.athenz.aws.athenz.cloud'],
      ipAddresses: ['10.0.0.7', 'fd00::7', '2001:db8:0:1:0:0:0:1'],
      uris: ['spiffe://sports/sa/api', 'athenz://instanceid/athenz.aws.us-west-2/i-0abc'],
      emails: ['sports.api@aws.athenz.cloud'],
    },
    usage: 'client-server',
    crl: 'http://zts.example.com:4443/zts/v1/crl',
    purpose: 'sslserver',
  },
  {
    kind: 'role',
    subject: { commonName: 'sports:role.readers' },
    names: { uris: ['spiffe://sports/ra/readers', 'athenz://principal/sports.api'] },
    usage: 'client',
    purpose: 'sslclient',
  },
  {
    kind: 'server (CDP)',
    subject: { commonName: 'localhost', organization: 'Tessera' },
    names: { dnsNames: ['localhost', 'build-host'], ipAddresses: ['127.0.0.1', '::1'] },
    usage: 'server',
    crl: 'https://ca.example.com/crl.der',
    purpose: 'sslserver',
  },
  {
    kind: 'empty subject, critical SAN; UTF-8 is absent',
    subject: { commonName: '' },
    names: { uris: ['spiffe://sports/sa/api'] },
    usage: 'client',
    purpose: 'sslclient',
  },
  {
    kind: 'UTF-8 subject, no SAN',
    subject: { commonName: 'bücher.api', organization: 'Bücher & Co' },
    names: {},
    usage: 'client',
    purpose: 'sslclient',
  },
];

const cas: Record<string, Promise<CertificateAuthority>> = {
  'EC CA': createCertificateAuthority({ commonName: 'EC Diff CA', alg: 'ec', validityDays: 30, now }),
  'RSA CA': createCertificateAuthority({ commonName: 'RSA Diff CA', alg: 'rsa', validityDays: 30, now }),
  // Lives past 2049, so certificates get a GeneralizedTime notAfter.
  'EC CA to 2060': createCertificateAuthority({ commonName: 'Long CA', alg: 'ec', validityDays: 34 * 365, now }),
};

for (const [caName, caPromise] of Object.entries(cas)) {
  for (const keyKind of ['ec-p256', 'ec-p384', 'rsa-2048'] as const) {
    test(`${caName}, ${keyKind} subject: issued certificates match the @peculiar/x509 build byte for byte and openssl reads them the same`, async () => {
      const ca = await caPromise;
      const caCert = new x509.X509Certificate(ca.certPem);
      for (const c of CASES) {
        const key = keyPair(keyKind);
        const notBefore = new Date(now.getTime() - 61_500);
        const request: IssueRequest = {
          ca, publicKeyPem: key.publicKeyPem, subject: c.subject, ...c.names, usage: c.usage,
          notBefore, notAfter: new Date(now.getTime() + (caName.includes('2060') ? 30 * 365 : 7) * 86_400_000 + 999),
          ...(c.crl ? { crlDistributionPoint: c.crl } : {}),
        };
        const issued = await issueCertificate(request);
        const label = `${caName} ${keyKind} ${c.kind}`;
        const ours = new x509.X509Certificate(issued.certPem);
        const reference = await referenceCertificate(request, issued.serialHex, issued.notBefore, issued.notAfter);

        // The signed content is identical to what the previous implementation wrote.
        const [a, b] = [tbsOf(ours), tbsOf(reference)];
        const at = a.findIndex((x, i) => x !== b[i]);
        assert.ok(a.equals(b), `${label}: TBSCertificate differs from byte ${at}: ${a.subarray(at, at + 24).toString('hex')} vs ${b.subarray(at, at + 24).toString('hex')}`);

        // Field by field, as @peculiar/x509 reads it.
        assert.equal(ours.serialNumber.toLowerCase(), issued.serialHex, label);
        assert.equal(ours.subject, reference.subject, label);
        assert.equal(ours.issuer, caCert.subject, label);
        assert.deepEqual(Buffer.from(ours.issuerName.toArrayBuffer()), Buffer.from(caCert.subjectName.toArrayBuffer()), label);
        assert.deepEqual([ours.notBefore, ours.notAfter], [issued.notBefore, issued.notAfter], label);
        assert.equal(issued.notBefore.getTime() % 1000, 0, label);
        assert.deepEqual(Buffer.from(ours.publicKey.rawData), createPublicKey(key.publicKeyPem).export({ type: 'spki', format: 'der' }), label);
        assert.deepEqual(ours.extensions.map((e) => [e.type, e.critical]), reference.extensions.map((e) => [e.type, e.critical]), label);
        const san = ours.getExtension(x509.SubjectAlternativeNameExtension);
        assert.deepEqual(san?.names.toJSON() ?? [], reference.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [], label);
        assert.equal(san?.names.items.length ?? 0, generalNames(c.names).length, label);
        assert.equal(san?.critical ?? false, !!san && !c.subject.commonName, label);
        assert.equal(ours.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId, caCert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId, label);
        assert.equal(ours.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId, (await x509.SubjectKeyIdentifierExtension.create(ours.publicKey)).keyId, label);
        const cdp = ours.getExtension(x509.CRLDistributionPointsExtension);
        assert.deepEqual(cdp ? [...cdp.distributionPoints].map((d) => d.distributionPoint?.fullName?.[0].uniformResourceIdentifier) : undefined, c.crl ? [c.crl] : undefined, label);
        assert.equal(await ours.verify({ publicKey: caCert.publicKey, signatureOnly: true }), true, label);
        assert.equal(new X509Certificate(issued.certPem).verify(new X509Certificate(ca.certPem).publicKey), true, label);

        // parseCertificate (the DER reader) agrees with @peculiar/x509.
        const info = parseCertificate(issued.certPem);
        assert.deepEqual(info, {
          commonName: ours.subjectName.getField('CN')[0] ?? '',
          organizationalUnit: ours.subjectName.getField('OU')[0],
          organization: ours.subjectName.getField('O')[0],
          issuerCommonName: caCert.subjectName.getField('CN')[0],
          serialHex: issued.serialHex,
          notBefore: issued.notBefore,
          notAfter: issued.notAfter,
          dnsNames: c.names.dnsNames ?? [],
          uris: c.names.uris ?? [],
          ipAddresses: san?.names.items.filter((n) => n.type === 'ip').map((n) => n.value) ?? [],
          emails: c.names.emails ?? [],
        }, label);

        // openssl prints both the same (signature values aside) and verifies the chain for the usage.
        const text = opensslText(issued.certPem);
        assert.equal(text, opensslText(reference.toString('pem')), label);
        if (c.crl) assert.match(text, new RegExp(`X509v3 CRL Distribution Points:\\s+Full Name:\\s+URI:${c.crl.replace(/[.?]/g, '\\$&')}`), label);
        else assert.doesNotMatch(text, /CRL Distribution/, label);
        if (caName.includes('2060')) assert.match(text, /Not After : .* 20[5-6]\d GMT/, label);
        const verified = openssl(['verify', '-CAfile', 'ca.pem', '-purpose', c.purpose, 'c.pem'], { 'ca.pem': ca.certPem, 'c.pem': issued.certPem });
        assert.match(verified.output, /c\.pem: OK/, `${label}: ${verified.output}`);
      }
    });
  }
}

test('parseCsr reads what @peculiar/x509 reads, for CSRs from createCsr and from openssl req', async () => {
  const csrs: { label: string; pem: string }[] = [];
  for (const kind of ['ec-p256', 'ec-p384', 'rsa-2048'] as const) {
    const key = keyPair(kind);
    // createCsr signs with P-256 or RSA keys (siad's); P-384 CSRs come from openssl.
    if (kind !== 'ec-p384') csrs.push({
      label: `createCsr ${kind}`,
      pem: await createCsr({
        keyPem: key.privateKeyPem,
        subject: { commonName: 'sports.api', organizationalUnit: 'athenz.aws.us-west-2', organization: 'Sports, Inc.', country: 'US' },
        dnsNames: ['api.sports.aws.athenz.cloud'], ipAddresses: ['10.0.0.7', 'fd00::7'],
        uris: ['spiffe://sports/sa/api', 'athenz://instanceid/athenz.aws.us-west-2/i-0abc'], emails: ['a@b.example'],
      }),
    });
    csrs.push({
      label: `openssl req ${kind}`,
      pem: opensslOk([
        'req', '-new', '-key', 'k.pem', '-sha256', '-subj', '/C=US/O=Sports Ünïcode/OU=athenz.aws.us-west-2/CN=sports.api',
        '-addext', 'subjectAltName=DNS:api.sports.aws.athenz.cloud,IP:10.1.2.3,IP:2001:db8::1,URI:spiffe://sports/sa/api,email:x@y.example,RID:1.2.3.4',
      ], { 'k.pem': key.privateKeyPem }),
    });
  }
  csrs.push({ label: 'createCsr, no SAN, no CN', pem: await createCsr({ keyPem: keyPair('ec-p256').privateKeyPem, subject: { commonName: '', organization: 'X' } }) });
  for (const { label, pem } of csrs) {
    const ours = await parseCsr(pem);
    const theirs = new x509.Pkcs10CertificateRequest(pem);
    const sanExt = theirs.getExtensions('2.5.29.17')[0];
    const san = sanExt ? new x509.SubjectAlternativeNameExtension(sanExt.rawData) : undefined;
    const values = (type: string) => san?.names.items.filter((n) => n.type === type).map((n) => n.value) ?? [];
    assert.deepEqual(ours, {
      commonName: theirs.subjectName.getField('CN')[0] ?? '',
      organizationalUnit: theirs.subjectName.getField('OU')[0],
      organization: theirs.subjectName.getField('O')[0],
      subjectFields: theirs.subjectName.toJSON().flatMap((rdn) => Object.entries(rdn).flatMap(([type, vs]) => vs.map((value) => ({ type, value })))),
      dnsNames: values('dns'),
      uris: values('url'),
      ipAddresses: values('ip'),
      emails: values('email'),
      publicKeyPem: createPublicKey({ key: Buffer.from(theirs.publicKey.rawData), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString(),
      keyAlgorithm: theirs.publicKey.algorithm.name === 'ECDSA' ? 'ec' : 'rsa',
      signatureValid: await theirs.verify(),
    }, label);
    assert.equal(ours.signatureValid, true, label);
  }
});

test('an IPv4-mapped IPv6 SAN is written as its 16 bytes (the @peculiar/x509 generator got these wrong)', async () => {
  const ca = await cas['EC CA'];
  const issued = await issueCertificate({
    ca, publicKeyPem: keyPair('ec-p256').publicKeyPem, subject: { commonName: 'x' }, ipAddresses: ['::ffff:192.0.2.1', '2001:db8::10.1.2.3'],
    notBefore: now, notAfter: new Date(now.getTime() + 86_400_000), usage: 'server',
  });
  const text = opensslOk(['x509', '-in', 'c.pem', '-noout', '-ext', 'subjectAltName'], { 'c.pem': issued.certPem });
  assert.match(text, /IP Address:0:0:0:0:0:FFFF:C000:201, IP Address:2001:DB8:0:0:0:0:A01:203/);
  assert.deepEqual(parseCertificate(issued.certPem).ipAddresses, ['::ffff:c000:201', '2001:db8::a01:203']);
});
