/**
 * X509-SVID issuance refusals (svid-certificate.ts): a revoked or expired
 * client certificate, one without exactly one SPIFFE ID, an empty CSR and a CSR
 * whose self-signature does not verify are refused before anything is signed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '@tessera/core/errors';
import { createCsr } from '@tessera/core/x509/csr';
import { generateKeyPair } from '@tessera/core/x509/keys';
import type { CertificateInfo } from '@tessera/core/x509/certificate';
import { CLOCK_SKEW_MS } from '@tessera/core/x509/clock-skew';
import type { Caller, ZtsContext } from '../src/context.ts';
import type { SignRequest } from '../src/signer.ts';
import { issueSvid } from '../src/svid-certificate.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const SPIFFE = 'spiffe://example.org/ns/sports/sa/api';

function setup(revoked: string[] = []) {
  const signed: SignRequest[] = [];
  const ctx = {
    now: () => NOW,
    revocations: { isRevoked: (serial: string) => revoked.includes(serial) },
    signer: {
      sign: async (req: SignRequest) => {
        signed.push(req);
        return { certPem: '-----BEGIN CERTIFICATE-----\nstub\n-----END CERTIFICATE-----\n', serialHex: '01' };
      },
    },
  } as unknown as ZtsContext;
  return { ctx, signed };
}

function caller(cert: Partial<CertificateInfo> = {}): Caller {
  return {
    principal: 'sports.api',
    ip: '127.0.0.1',
    cert: {
      commonName: 'sports.api',
      issuerCommonName: 'Tessera CA',
      serialHex: 'a1f2',
      notBefore: new Date(NOW.getTime() - 3_600_000),
      notAfter: new Date(NOW.getTime() + 3_600_000),
      dnsNames: [],
      uris: [SPIFFE, 'athenz://instanceid/sys.auth.aws/i-0123'],
      ipAddresses: [],
      emails: [],
      ...cert,
    },
  };
}

const key = generateKeyPair('ec');
const csrPem = createCsr({ keyPem: key.privateKeyPem, subject: { commonName: 'anything' }, uris: ['spiffe://evil.example/x'] });

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  assert.ok(e instanceof ApiError, `expected an ApiError, got ${String(e)}`);
  return e;
}

test('the SVID carries only the SPIFFE ID of the client certificate and ends with it', async () => {
  const { ctx, signed } = setup();
  const c = caller();
  const r = await issueSvid(ctx, c, { csr: await csrPem });
  assert.equal(r.spiffeId, SPIFFE);
  assert.equal(r.notAfter, c.cert!.notAfter);
  assert.equal(signed.length, 1);
  assert.deepEqual(signed[0].uris, [SPIFFE], 'not the athenz:// URI, not the CSR\'s URI');
  assert.deepEqual(signed[0].subject, { commonName: 'sports.api' });
  assert.equal(signed[0].publicKeyPem.replace(/\s/g, ''), key.publicKeyPem.replace(/\s/g, ''));
  assert.deepEqual(signed[0].notBefore, new Date(NOW.getTime() - CLOCK_SKEW_MS), 'backdated by the clock skew');
});

test('a revoked client certificate is refused with 401 and told to register again', async () => {
  const { ctx, signed } = setup(['a1f2']);
  const e = await refusal(issueSvid(ctx, caller(), { csr: await csrPem }));
  assert.equal(e.status, 401);
  assert.match(e.message, /serial a1f2\) is revoked: the instance must register again/);
  assert.equal(signed.length, 0);
});

test('a client certificate with no SPIFFE ID, or two, is refused with 403', async () => {
  for (const uris of [['athenz://instanceid/sys.auth.aws/i-0123'], [SPIFFE, 'SPIFFE://example.org/other']]) {
    const { ctx, signed } = setup();
    const e = await refusal(issueSvid(ctx, caller({ uris }), { csr: await csrPem }));
    assert.equal(e.status, 403, uris.join(','));
    assert.match(e.message, /client certificate of sports\.api carries no single SPIFFE ID: refresh it first/);
    assert.equal(signed.length, 0);
  }
});

test('a missing, non-string or empty csr is a 400 that says what to send', async () => {
  for (const csr of [undefined, 42, '']) {
    const { ctx, signed } = setup();
    const e = await refusal(issueSvid(ctx, caller(), csr === undefined ? {} : { csr }));
    assert.equal(e.status, 400, String(csr));
    assert.match(e.message, /^csr is required: a PEM CSR/);
    assert.equal(signed.length, 0);
  }
});

test('a CSR whose self-signature does not verify is a 400 (no proof of key possession)', async () => {
  const pem = await csrPem;
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
  der[der.length - 1] ^= 0x01; // last byte of the signature
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${b64}-----END CERTIFICATE REQUEST-----\n`;
  const { ctx, signed } = setup();
  const e = await refusal(issueSvid(ctx, caller(), { csr: tampered }));
  assert.equal(e.status, 400);
  assert.match(e.message, /^Unable to parse PKCS10 CSR: its signature does not verify with its own key/);
  assert.equal(signed.length, 0);
});

test('an expired client certificate is refused with 401, even at its last instant', async () => {
  for (const notAfter of [NOW, new Date(NOW.getTime() - 1000)]) {
    const { ctx, signed } = setup();
    const e = await refusal(issueSvid(ctx, caller({ notAfter }), { csr: await csrPem }));
    assert.equal(e.status, 401);
    assert.equal(e.message, 'the client certificate of sports.api has expired');
    assert.equal(signed.length, 0);
  }
});
