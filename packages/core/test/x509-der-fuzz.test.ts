/**
 * Bounded fuzzing of the DER readers (a few thousand inputs; scripts/fuzz-der.ts
 * runs millions): mutated real CSRs and certificates and generated TLV trees
 * must either parse or fail with a 400 ApiError, never crash or hang.
 * fast-check prints the seed and the shrunk input of any failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createCsr, parseCsr } from '../src/x509/csr.ts';
import { createCertificateAuthority } from '../src/x509/ca.ts';
import { issueCertificate } from '../src/x509/issue.ts';
import { parseCertificate } from '../src/x509/certificate.ts';
import { generateKeyPair } from '../src/x509/keys.ts';
import { now, pemToDer } from './x509-support.ts';
import { certPem, csrPem, generatedDer, isApiError400, mutatedDer } from './der-fuzz-support.ts';

const csrSeeds = await Promise.all((['ec', 'rsa'] as const).map(async (alg) => pemToDer(await createCsr({
  keyPem: generateKeyPair(alg).privateKeyPem,
  subject: { commonName: 'sports.api', organizationalUnit: 'athenz.aws.us-west-2', organization: 'Sports' },
  dnsNames: ['api.sports.aws.athenz.cloud'], ipAddresses: ['10.0.0.1', 'fd00::1'], uris: ['spiffe://sports/sa/api'], emails: ['a@b.c'],
}))));
const ca = await createCertificateAuthority({ commonName: 'Fuzz CA', alg: 'ec', validityDays: 1, now });
const certSeeds = [pemToDer(ca.certPem), pemToDer((await issueCertificate({
  ca, publicKeyPem: generateKeyPair('rsa').publicKeyPem, subject: { commonName: 'sports.api' }, dnsNames: ['a.b'], uris: ['spiffe://x/sa/y'],
  notBefore: now, notAfter: new Date(now.getTime() + 3_600_000), usage: 'client-server', crlDistributionPoint: 'http://ca/crl',
})).certPem)];

async function csrOutcome(der: Buffer): Promise<'parsed' | 'refused'> {
  try {
    const csr = await parseCsr(csrPem(der));
    assert.equal(typeof csr.signatureValid, 'boolean');
    return 'parsed';
  } catch (e) {
    if (!isApiError400(e)) throw e;
    return 'refused';
  }
}

function certOutcome(der: Buffer): 'parsed' | 'refused' {
  try {
    parseCertificate(certPem(der));
    return 'parsed';
  } catch (e) {
    if (!isApiError400(e)) throw e;
    return 'refused';
  }
}

test('mutated CSRs parse or are refused with a 400', async () => {
  const seen = { parsed: 0, refused: 0 };
  await fc.assert(fc.asyncProperty(mutatedDer(csrSeeds), async (der) => {
    seen[await csrOutcome(der)]++;
  }), { numRuns: 2000 });
  // Both outcomes occur: the mutations reach past the first header.
  assert.ok(seen.refused > 0 && seen.parsed > 0, JSON.stringify(seen));
});

test('generated DER trees given as CSRs are refused with a 400', async () => {
  await fc.assert(fc.asyncProperty(generatedDer(), async (der) => {
    assert.equal(await csrOutcome(der), 'refused');
  }), { numRuns: 1000 });
});

test('mutated and generated certificates parse or are refused with a 400', () => {
  fc.assert(fc.property(fc.oneof(mutatedDer(certSeeds), generatedDer()), (der) => {
    certOutcome(der);
  }), { numRuns: 2000 });
});
