/** Key pairs as PEM (PKCS#8 private, SPKI public) and their WebCrypto forms. */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

export type KeyAlgorithm = 'ec' | 'rsa';

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** ECDSA P-256 or RSA 2048. */
export function generateKeyPair(alg: KeyAlgorithm): KeyPairPem {
  const { privateKey, publicKey } =
    alg === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** 'ec' or 'rsa' for a private or public key PEM (PKCS#8, PKCS#1, SEC1, SPKI) or a certificate. */
export function keyAlgorithmOf(keyPem: string): KeyAlgorithm {
  const type = createPublicKey(keyPem).asymmetricKeyType;
  if (type === 'ec') return 'ec';
  if (type === 'rsa') return 'rsa';
  throw new Error(`unsupported key type ${type}: use EC P-256 or RSA`);
}

/**
 * Why this public key is too weak or of a kind we do not certify, or undefined
 * when it is fine: RSA of at least 2048 bits, or EC on P-256 or P-384.
 */
export function keyStrengthProblem(key: KeyObject): string | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    return (details.modulusLength ?? 0) >= 2048 ? undefined : `RSA key of ${details.modulusLength} bits is too short: use at least 2048`;
  }
  if (key.asymmetricKeyType === 'ec') {
    return details.namedCurve === 'prime256v1' || details.namedCurve === 'secp384r1'
      ? undefined
      : `EC curve ${details.namedCurve} is not supported: use P-256 or P-384`;
  }
  return `${key.asymmetricKeyType} keys are not supported: use RSA (2048+) or EC P-256`;
}

/** The WebCrypto parameters for signing with SHA-256 by a key of this algorithm. */
export function signingAlgorithm(alg: KeyAlgorithm): { name: string; hash: string; namedCurve?: string } {
  return alg === 'ec'
    ? { name: 'ECDSA', hash: 'SHA-256', namedCurve: 'P-256' }
    : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
}

/** A private key PEM (any format node reads) as a WebCrypto signing key. */
export async function importPrivateKey(keyPem: string): Promise<CryptoKey> {
  const der = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
  return globalThis.crypto.subtle.importKey('pkcs8', der, signingAlgorithm(keyAlgorithmOf(keyPem)), true, ['sign']);
}

/** The name the brief uses; same as importPrivateKey. */
export const importPrivateKeyPem = importPrivateKey;

export async function importPublicKey(keyPem: string): Promise<CryptoKey> {
  const der = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
  return globalThis.crypto.subtle.importKey('spki', der, signingAlgorithm(keyAlgorithmOf(keyPem)), true, ['verify']);
}

export function publicKeyPemFromPrivate(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * The key in the "traditional" PEM form Athenz SIA writes: PKCS#1
 * (`RSA PRIVATE KEY`) for RSA, SEC1 (`EC PRIVATE KEY`) for EC.
 */
export function toTraditionalPrivateKeyPem(privateKeyPem: string): string {
  const key = createPrivateKey(privateKeyPem);
  const type = key.asymmetricKeyType === 'rsa' ? 'pkcs1' : 'sec1';
  return key.export({ type, format: 'pem' }).toString();
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
