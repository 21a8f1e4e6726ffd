/** PEM to the DER forms gRPC APIs carry (the SPIFFE Workload API sends DER, never PEM). */
import { createPrivateKey, X509Certificate } from 'node:crypto';

/** Every certificate of a PEM bundle, DER, one after the other (the leaf first, as in the PEM). */
export function derCertificates(pem: string): Buffer {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return Buffer.concat(blocks.map((b) => new X509Certificate(b).raw));
}

/** A private key in any PEM form, as unencrypted PKCS#8 DER. */
export function pkcs8Der(keyPem: string): Buffer {
  return createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
}
