/** Key pairs as PEM (PKCS#8 private, SPKI public) and their WebCrypto forms. */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';

export type KeyAlgorithm = 'ec' | 'rsa';

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generateKeyPair(alg: KeyAlgorithm): KeyPairPem {
  const { privateKey, publicKey } =
    alg === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function keyAlgorithmOf(keyPem: string): KeyAlgorithm {
  const type = createPublicKey(keyPem).asymmetricKeyType;
  if (type === 'ec') return 'ec';
  if (type === 'rsa') return 'rsa';
  throw new Error(`unsupported key type ${type}: use EC P-256 or RSA`);
}

/** The WebCrypto parameters for signing with SHA-256 by a key of this algorithm. */
export function signingAlgorithm(alg: KeyAlgorithm): { name: string; hash: string; namedCurve?: string } {
  return alg === 'ec'
    ? { name: 'ECDSA', hash: 'SHA-256', namedCurve: 'P-256' }
    : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
}

export async function importPrivateKey(keyPem: string): Promise<CryptoKey> {
  const key = createPrivateKey(keyPem);
  const der = key.export({ type: 'pkcs8', format: 'der' });
  return globalThis.crypto.subtle.importKey('pkcs8', der, signingAlgorithm(keyAlgorithmOf(keyPem)), true, ['sign']);
}

export async function importPublicKey(keyPem: string): Promise<CryptoKey> {
  const der = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  return globalThis.crypto.subtle.importKey('spki', der, signingAlgorithm(keyAlgorithmOf(keyPem)), true, ['verify']);
}

export function publicKeyPemFromPrivate(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
}

/** True when the certificate's public key is the public half of this private key. */
export function keyMatchesCertificate(privateKeyPem: string, certPem: string): boolean {
  try {
    const fromKey = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' });
    const fromCert = createPublicKey(certPem).export({ type: 'spki', format: 'der' });
    return fromKey.equals(fromCert);
  } catch {
    return false;
  }
}
