/** A certificate authority kept as two PEM files; the key is written 0600, atomically. */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { x509 } from './provider.ts';
import {
  generateKeyPair, importPrivateKey, importPublicKey, keyAlgorithmOf, keyMatchesCertificate, publicKeyPemFromPrivate, signingAlgorithm,
  type KeyAlgorithm,
} from './keys.ts';
import { randomSerial } from './serial.ts';
import { backdated } from './clock-skew.ts';
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
  /** Certify this existing key instead of generating one (its algorithm wins over `alg`). */
  keyPem?: string;
}

const DAY_MS = 86_400_000;

/** A self-signed CA: basicConstraints CA (pathLen 0: it signs only end entities), keyCertSign/cRLSign, SKI. */
export async function createCertificateAuthority(o: CaOptions): Promise<CertificateAuthority> {
  if (!(o.validityDays > 0)) throw new Error(`CA validityDays must be positive, got ${o.validityDays}`);
  const privateKeyPem = o.keyPem ?? generateKeyPair(o.alg).privateKeyPem;
  const alg = keyAlgorithmOf(privateKeyPem);
  const keys = { privateKey: await importPrivateKey(privateKeyPem), publicKey: await importPublicKey(publicKeyPemFromPrivate(privateKeyPem)) };
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: subjectName({ commonName: o.commonName, organization: 'Tessera' }),
    notBefore: backdated(o.now),
    notAfter: new Date(o.now.getTime() + o.validityDays * DAY_MS),
    signingAlgorithm: signingAlgorithm(alg),
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { keyPem: privateKeyPem, certPem: cert.toString('pem') + '\n' };
}

/** Writes a fresh temp file (created with `mode`, never reused) and flushes it to disk. */
function writeTemp(path: string, content: string, mode: number): string {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** Replaces `path` atomically with a 0600 file: readers see the old or the new content, never a partial key. */
export function writePrivateFile(path: string, content: string): void {
  renameSync(writeTemp(path, content, 0o600), path);
}

/**
 * Creates `path` atomically only if it does not exist yet. False when another
 * process got there first (several replicas starting on one data directory).
 */
function createExclusive(path: string, content: string, mode: number): boolean {
  const tmp = writeTemp(path, content, mode);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Reuses `ca.key.pem` + `ca.cert.pem` in `dir`, or creates them. The key is
 * written first, so the only partial state is a key without a certificate, which
 * is completed by certifying that key. A certificate without its key, or one for
 * another key, is an error: overwriting it would silently change the trust root.
 */
export async function loadOrCreateCa(dir: string, o: CaOptions): Promise<CertificateAuthority> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, 'ca.key.pem');
  const certPath = join(dir, 'ca.cert.pem');
  let keyPem = readIfExists(keyPath);
  let certPem = readIfExists(certPath);
  if (keyPem === undefined && certPem !== undefined) {
    throw new Error(`${certPath} exists but ${keyPath} does not: restore the CA key, or remove both files to create a new CA`);
  }
  if (keyPem === undefined) {
    const fresh = generateKeyPair(o.alg).privateKeyPem;
    keyPem = createExclusive(keyPath, fresh, 0o600) ? fresh : readFileSync(keyPath, 'utf8');
  }
  keyAlgorithmOf(keyPem); // fails early on an unusable key
  if (certPem === undefined) {
    const ca = await createCertificateAuthority({ ...o, keyPem });
    certPem = createExclusive(certPath, ca.certPem, 0o644) ? ca.certPem : readFileSync(certPath, 'utf8');
  }
  if (!keyMatchesCertificate(keyPem, certPem)) {
    throw new Error(`${certPath} is not the certificate of ${keyPath}: restore the matching pair, or remove both to create a new CA`);
  }
  return { keyPem, certPem };
}
