/** CRLs as openssl reads them: the CRL number and serials as positive DER INTEGERs, the signature by the CA. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCertificateAuthority } from '../src/x509/ca.ts';
import { createCrl } from '../src/x509/crl.ts';
import { daysFromNow, now, opensslOk } from './x509-support.ts';

const toPem = (der: Buffer) => `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END X509 CRL-----\n`;

for (const alg of ['ec', 'rsa'] as const) {
  test(`${alg} CA: CRL numbers and serials with the top bit set stay positive; openssl verifies the signature`, async () => {
    const ca = await createCertificateAuthority({ commonName: `CRL ${alg} CA`, alg, validityDays: 1, now });
    const entries = [
      { serialHex: '8a0000000000000000000000000000f1', revoked: now, reason: 'keyCompromise' as const },
      { serialHex: '1b0000000000000000000000000000f2', revoked: now, reason: 'superseded' as const },
    ];
    for (const crlNumber of [1n, 128n, 0x1234n]) {
      const crl = toPem(await createCrl({ ca, entries, thisUpdate: now, nextUpdate: daysFromNow(1), crlNumber }));
      const text = opensslOk(['crl', '-in', 'crl.pem', '-CAfile', 'ca.pem', '-noout', '-text'], { 'crl.pem': crl, 'ca.pem': ca.certPem });
      assert.match(text, /verify OK/);
      // openssl prints the number in decimal; 0x80 without a sign byte would be -128.
      assert.match(text, new RegExp(`X509v3 CRL Number:\\s*\\n\\s*${crlNumber}\\n`));
      // openssl prints a serial without the sign byte; a negative one would show a minus sign.
      assert.match(text, /Serial Number: 8A0000000000000000000000000000F1\n\s*Revocation Date:[^\n]*\n\s*CRL entry extensions:\s*\n\s*X509v3 CRL Reason Code:\s*\n\s*Key Compromise/);
      assert.match(text, /Serial Number: 1B0000000000000000000000000000F2\n[\s\S]*Superseded/);
      assert.doesNotMatch(text, /Serial Number: -/);
    }
  });
}
