/**
 * Writes and signs end-entity certificates: the TBSCertificate in DER, signed
 * with node:crypto using a CA key decoded once per CA.
 */
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { OID } from './oids.ts';
import { readCertificate } from './certificate-reader.ts';
import { pemBody, readOctetString, type PublicKeyInfo } from './x509-reader.ts';
import {
  bitString, booleanTrue, directoryString, explicit, implicitPrimitive, namedBits, nullValue, octetString, oid, sequence, set, smallInteger, time,
  unsignedInteger,
} from './writer.ts';
import type { Subject } from '../names.ts';

export type CertificateUsage = 'client-server' | 'server' | 'client';

/** What every signature needs from a CA, decoded once. */
export interface SigningCa {
  key: KeyObject;
  signatureAlgorithm: Buffer;
  /** The CA certificate's subject Name element, copied byte for byte as the issuer. */
  issuer: Uint8Array;
  notAfter: Date;
  authorityKeyIdentifier: Buffer;
}

const sha1 = (v: Uint8Array): Buffer => createHash('sha1').update(v).digest();

export function prepareSigningCa(ca: { keyPem: string; certPem: string }): SigningCa {
  const cert = readCertificate(pemBody(ca.certPem, 'CERTIFICATE'));
  const key = createPrivateKey(ca.keyPem);
  const ski = cert.extensions.find((e) => e.id === OID.subjectKeyIdentifier);
  // RFC 5280 §4.2.1.1: the AKI key id is the issuer's SKI; a CA without one gets the SHA-1 of its key bits (method 1).
  const keyId = ski ? readOctetString(ski.value, 'subjectKeyIdentifier') : sha1(cert.publicKey.keyBits);
  return {
    key,
    signatureAlgorithm: key.asymmetricKeyType === 'rsa' ? sequence(oid(OID.sha256WithRSAEncryption), nullValue()) : sequence(oid(OID.ecdsaWithSHA256)),
    issuer: cert.subjectNameDer,
    notAfter: cert.notAfter,
    authorityKeyIdentifier: sequence(implicitPrimitive(0, keyId)),
  };
}

export interface GeneralName {
  type: 'dns' | 'ip' | 'url' | 'email';
  value: string;
}

export interface CertificateFields {
  serial: Uint8Array;
  subject: Subject;
  notBefore: Date;
  notAfter: Date;
  publicKey: PublicKeyInfo;
  usage: CertificateUsage;
  /** Already checked for a valid encoding (names.ts generalNames). */
  names: GeneralName[];
  crlDistributionPoint?: string;
}

/** A subject Name: C, O, OU, CN in that order, each its own RDN (certificates and CSRs). */
export function name(s: Subject): Buffer {
  const rdn = (type: string, value: string) => set(sequence(oid(type), directoryString(value)));
  const rdns: Buffer[] = [];
  if (s.country) rdns.push(rdn(OID.countryName, s.country));
  if (s.organization) rdns.push(rdn(OID.organizationName, s.organization));
  if (s.organizationalUnit) rdns.push(rdn(OID.organizationalUnitName, s.organizationalUnit));
  if (s.commonName) rdns.push(rdn(OID.commonName, s.commonName));
  return sequence(...rdns);
}

/** IPv4 or IPv6 text (already checked by net.isIP) as its 4 or 16 bytes. */
export function ipBytes(ip: string): Buffer {
  if (!ip.includes(':')) return Buffer.from(ip.split('.').map(Number));
  let text = ip;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail.push(...dotted[1].split('.').map(Number));
    text = text.slice(0, -dotted[1].length) + '0:0';
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = rest === undefined ? [] : rest ? rest.split(':') : [];
  const groups = rest === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  if (tail.length) Buffer.from(tail).copy(out, 12);
  return out;
}

export function generalName(n: GeneralName): Buffer {
  switch (n.type) {
    case 'email':
      return implicitPrimitive(1, Buffer.from(n.value, 'latin1'));
    case 'dns':
      return implicitPrimitive(2, Buffer.from(n.value, 'latin1'));
    case 'url':
      return implicitPrimitive(6, Buffer.from(n.value, 'latin1'));
    case 'ip':
      return implicitPrimitive(7, ipBytes(n.value));
  }
}

export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? sequence(oid(id), booleanTrue(), octetString(value)) : sequence(oid(id), octetString(value));
}

const EKU: Record<CertificateUsage, Buffer> = {
  'client-server': sequence(oid(OID.serverAuth), oid(OID.clientAuth)),
  server: sequence(oid(OID.serverAuth)),
  client: sequence(oid(OID.clientAuth)),
};
const VERSION_3 = explicit(0, smallInteger(2));
const BASIC_CONSTRAINTS_END_ENTITY = extension(OID.basicConstraints, true, sequence());
// keyUsage bit 0 digitalSignature, bit 2 keyEncipherment (RSA keys can also wrap TLS 1.2 session keys).
const KEY_USAGE_EC = extension(OID.keyUsage, true, namedBits([0]));
const KEY_USAGE_RSA = extension(OID.keyUsage, true, namedBits([0, 2]));

/** The signed certificate, DER. */
export function writeCertificate(ca: SigningCa, f: CertificateFields): Buffer {
  const s = f.subject;
  // RFC 5280 §4.2.1.6: with an empty subject the SAN must be critical.
  const subjectEmpty = !s.commonName && !s.organizationalUnit && !s.organization && !s.country;
  const extensions = [
    BASIC_CONSTRAINTS_END_ENTITY,
    f.publicKey.algorithm === 'rsa' ? KEY_USAGE_RSA : KEY_USAGE_EC,
    extension(OID.extKeyUsage, false, EKU[f.usage]),
    ...(f.names.length > 0 ? [extension(OID.subjectAltName, subjectEmpty, sequence(...f.names.map(generalName)))] : []),
    extension(OID.authorityKeyIdentifier, false, ca.authorityKeyIdentifier),
    extension(OID.subjectKeyIdentifier, false, octetString(sha1(f.publicKey.keyBits))),
    // DistributionPoint { distributionPoint [0] { fullName [0] { URI } } }
    ...(f.crlDistributionPoint
      ? [extension(OID.crlDistributionPoints, false, sequence(sequence(explicit(0, explicit(0, implicitPrimitive(6, Buffer.from(f.crlDistributionPoint, 'latin1')))))))]
      : []),
  ];
  const tbs = sequence(
    VERSION_3,
    unsignedInteger(f.serial),
    ca.signatureAlgorithm,
    ca.issuer,
    sequence(time(f.notBefore), time(f.notAfter)),
    name(s),
    f.publicKey.der,
    explicit(3, sequence(...extensions)),
  );
  return sequence(tbs, ca.signatureAlgorithm, bitString(sign('sha256', tbs, ca.key)));
}
