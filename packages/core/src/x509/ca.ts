/** A certificate authority kept as two PEM files; the key is written 0600, atomically. */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { x509 } from './provider.ts';
import { generateKeyPair, importPrivateKey, importPublicKey, keyAlgorithmOf, signingAlgorithm, type KeyAlgorithm } from './keys.ts';
import { randomSerial } from './serial.ts';
import { subjectName } from './names.ts';

export interface CertificateAuthority {
  keyPem: string;
  certPem: string;
}

export interface CaOptions {
  commonName: string;
  alg: KeyAlgorithm;
  validityDays: number;
  now: Date;
}

export async function createCertificateAuthority(o: CaOptions): Promise<CertificateAuthority> {
  const { privateKeyPem, publicKeyPem } = generateKeyPair(o.alg);
  const keys = { privateKey: await importPrivateKey(privateKeyPem), publicKey: await importPublicKey(publicKeyPem) };
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: subjectName({ commonName: o.commonName, organization: 'Tessera' }),
    notBefore: new Date(o.now.getTime() - 60_000),
    notAfter: new Date(o.now.getTime() + o.validityDays * 86_400_000),
    signingAlgorithm: signingAlgorithm(o.alg),
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { keyPem: privateKeyPem, certPem: cert.toString('pem') + '\n' };
}

export function writePrivateFile(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, path);
}

/** Reuses `ca.key.pem` + `ca.cert.pem` in `dir`, or creates them. */
export async function loadOrCreateCa(dir: string, o: CaOptions): Promise<CertificateAuthority> {
  const keyPath = join(dir, 'ca.key.pem');
  const certPath = join(dir, 'ca.cert.pem');
  if (existsSync(keyPath) && existsSync(certPath)) {
    const ca = { keyPem: readFileSync(keyPath, 'utf8'), certPem: readFileSync(certPath, 'utf8') };
    keyAlgorithmOf(ca.keyPem); // fails early on an unusable key
    return ca;
  }
  const ca = await createCertificateAuthority(o);
  writePrivateFile(keyPath, ca.keyPem);
  writeFileSync(certPath, ca.certPem);
  return ca;
}
