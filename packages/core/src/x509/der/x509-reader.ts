/** Reading the parts CSRs and certificates share: names, SANs, public keys, algorithm identifiers. */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { checkDer, DerCursor, DerError, decodeOid, decodeString, TAG, type Tlv } from './reader.ts';
import { OID } from './oids.ts';

export interface SubjectFields {
  /** First value of each attribute, in RDN order, as @peculiar/x509's getField(...)[0] reports it. */
  commonName?: string;
  organizationalUnit?: string;
  organization?: string;
  /** Every attribute in order (short name such as CN, O, C, or the OID), so that a caller can refuse what it does not sign. */
  attributes: { type: string; value: string }[];
}

export interface SanFields {
  dnsNames: string[];
  uris: string[];
  ipAddresses: string[];
  emails: string[];
}

const FIELD_OF: Record<string, 'commonName' | 'organizationalUnit' | 'organization'> = {
  [OID.commonName]: 'commonName',
  [OID.organizationalUnitName]: 'organizationalUnit',
  [OID.organizationName]: 'organization',
};

// RFC 4514 short names of the attributes a CSR subject commonly carries.
const SHORT_NAME: Record<string, string> = {
  [OID.commonName]: 'CN',
  [OID.organizationalUnitName]: 'OU',
  [OID.organizationName]: 'O',
  [OID.countryName]: 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'E',
};

/** Name ::= SEQUENCE OF SET OF { type, value }: the CN, OU and O we act on, and every attribute in order. */
export function readName(buf: Uint8Array, name: Tlv, what: string): SubjectFields {
  const out: SubjectFields = { attributes: [] };
  const rdns = DerCursor.inside(buf, name);
  while (!rdns.done) {
    const rdn = DerCursor.inside(buf, rdns.expect(TAG.SET, `${what} RDN`));
    if (rdn.done) throw new DerError(`${what}: empty RDN`);
    while (!rdn.done) {
      const atv = rdn.sequence(`${what} attribute`);
      const type = atv.oid(`${what} attribute type`);
      if (atv.done) throw new DerError(`${what}: attribute without a value`);
      const value = atv.next();
      atv.finish(`${what} attribute`);
      const field = FIELD_OF[type];
      const text = field ? decodeString(buf, value, `${what} ${field}`) : attributeText(buf, value);
      out.attributes.push({ type: SHORT_NAME[type] ?? type, value: text });
      if (field && out[field] === undefined) out[field] = text;
    }
  }
  return out;
}

/** An attribute we do not act on: its text, or (RFC 4514) '#' and the hex of a value that is not a string. */
function attributeText(buf: Uint8Array, t: Tlv): string {
  try {
    return decodeString(buf, t, 'attribute');
  } catch {
    return `#${Buffer.from(buf.subarray(t.start, t.end)).toString('hex')}`;
  }
}

function ascii(buf: Uint8Array, t: Tlv, what: string): string {
  for (let i = t.valueStart; i < t.end; i++) {
    if (buf[i] < 0x20 || buf[i] > 0x7e) throw new DerError(`${what} has a non-ASCII or control byte`);
  }
  return Buffer.from(buf.subarray(t.valueStart, t.end)).toString('latin1');
}

/** IPv6 text as @peculiar/x509 writes it: lower-case groups, the longest run (2+) of zero groups as '::'. */
function ipText(v: Uint8Array): string {
  if (v.length === 4) return v.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((v[i] << 8) | v[i + 1]).toString(16));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  if (bestLen < 2) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** The subjectAltName extension value (GeneralNames DER): DNS, URI, IP and e-mail entries in order; other kinds skipped. */
export function readSubjectAltName(value: Uint8Array): SanFields {
  checkDer(value);
  const out: SanFields = { dnsNames: [], uris: [], ipAddresses: [], emails: [] };
  const names = new DerCursor(value, 0, value.length).sequence('subjectAltName');
  while (!names.done) {
    const n = names.next();
    switch (n.tag) {
      case 0x81:
        out.emails.push(ascii(value, n, 'SAN e-mail'));
        break;
      case 0x82:
        out.dnsNames.push(ascii(value, n, 'SAN DNS name'));
        break;
      case 0x86:
        out.uris.push(ascii(value, n, 'SAN URI'));
        break;
      case 0x87: {
        const ip = value.subarray(n.valueStart, n.end);
        if (ip.length !== 4 && ip.length !== 16) throw new DerError(`SAN IP address of ${ip.length} bytes (expected 4 or 16)`);
        out.ipAddresses.push(ipText(ip));
        break;
      }
      case 0xa0: // otherName
      case 0xa3: // x400Address
      case 0xa4: // directoryName
      case 0xa5: // ediPartyName
      case 0x88: // registeredID
        break;
      default:
        throw new DerError(`subjectAltName: unknown GeneralName tag 0x${n.tag.toString(16)}`);
    }
  }
  return out;
}

export interface Extension {
  id: string;
  critical: boolean;
  value: Uint8Array;
}

/** Extensions ::= SEQUENCE OF { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }; an id may appear once. */
export function readExtensions(buf: Uint8Array, list: Tlv): Extension[] {
  const out: Extension[] = [];
  const exts = DerCursor.inside(buf, list);
  while (!exts.done) {
    const e = exts.sequence('extension');
    const id = e.oid('extension id');
    const critical = e.peekTag() === TAG.BOOLEAN ? e.boolean('extension critical flag') : false;
    const value = e.bytes(e.expect(TAG.OCTET_STRING, 'extension value'));
    e.finish('extension');
    if (out.some((x) => x.id === id)) throw new DerError(`extension ${id} appears more than once`);
    out.push({ id, critical, value });
  }
  return out;
}

/** An extension value that is itself one OCTET STRING (subjectKeyIdentifier): its contents. */
export function readOctetString(value: Uint8Array, what: string): Uint8Array {
  checkDer(value);
  const c = new DerCursor(value, 0, value.length);
  return c.bytes(c.expect(TAG.OCTET_STRING, what));
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }. */
export function readAlgorithm(c: DerCursor, what: string): { oid: string; params?: Tlv } {
  const a = c.sequence(what);
  const oid = a.oid(what);
  const params = a.done ? undefined : a.next();
  a.finish(what);
  return { oid, ...(params ? { params } : {}) };
}

export interface PublicKeyInfo {
  /** The whole SubjectPublicKeyInfo element, ready for createPublicKey({ format: 'der', type: 'spki' }). */
  der: Uint8Array;
  /** The subjectPublicKey bits: what the key identifier (SHA-1) is computed over. */
  keyBits: Uint8Array;
  algorithm: 'rsa' | 'ec' | 'other';
  /** The named curve's OID for EC keys. */
  curve?: string;
}

export function readPublicKeyInfo(c: DerCursor): PublicKeyInfo {
  const t = c.expect(TAG.SEQUENCE, 'subjectPublicKeyInfo');
  const spki = DerCursor.inside(c.buf, t);
  const alg = readAlgorithm(spki, 'public key algorithm');
  const keyBits = spki.bitStringBytes('subjectPublicKey');
  spki.finish('subjectPublicKeyInfo');
  const algorithm = alg.oid === OID.rsaEncryption ? 'rsa' : alg.oid === OID.ecPublicKey ? 'ec' : 'other';
  const curve = algorithm === 'ec' && alg.params?.tag === TAG.OID ? decodeOid(c.buf.subarray(alg.params.valueStart, alg.params.end), 'named curve') : undefined;
  return { der: c.buf.subarray(t.start, t.end), keyBits, algorithm, ...(curve ? { curve } : {}) };
}

const JWK_CURVES: Record<string, { crv: string; size: number }> = {
  [OID.prime256v1]: { crv: 'P-256', size: 32 },
  [OID.secp384r1]: { crv: 'P-384', size: 48 },
};

/**
 * The key as a node:crypto KeyObject. OpenSSL 3 decodes an SPKI in 150–400 µs;
 * the same RSA key as PKCS#1 (the SPKI's key bits) takes about 15 µs, and an
 * uncompressed EC point as a JWK about half the SPKI time. Other keys go the SPKI way.
 */
export function publicKeyObject(key: PublicKeyInfo): KeyObject {
  if (key.algorithm === 'rsa') return createPublicKey({ key: Buffer.from(key.keyBits), format: 'der', type: 'pkcs1' });
  const curve = key.curve ? JWK_CURVES[key.curve] : undefined;
  if (curve && key.keyBits.length === 1 + 2 * curve.size && key.keyBits[0] === 0x04) {
    const coordinate = (from: number) => Buffer.from(key.keyBits.subarray(from, from + curve.size)).toString('base64url');
    return createPublicKey({ key: { kty: 'EC', crv: curve.crv, x: coordinate(1), y: coordinate(1 + curve.size) }, format: 'jwk' });
  }
  return createPublicKey({ key: Buffer.from(key.der), format: 'der', type: 'spki' });
}

/** node:crypto's digest for a signature algorithm (null for Ed25519), or undefined when we do not verify it. */
export function signatureDigest(oid: string): string | null | undefined {
  switch (oid) {
    case OID.sha256WithRSAEncryption:
    case OID.ecdsaWithSHA256:
      return 'sha256';
    case OID.sha384WithRSAEncryption:
    case OID.ecdsaWithSHA384:
      return 'sha384';
    case OID.sha512WithRSAEncryption:
    case OID.ecdsaWithSHA512:
      return 'sha512';
    case '1.3.101.112': // Ed25519
      return null;
    default:
      return undefined;
  }
}

/** The DER bytes inside the first PEM block with this label; DerError when there is none or its base64 is broken. */
export function pemBody(pem: string, label: string): Buffer {
  const begin = `-----BEGIN ${label}-----`;
  const i = pem.indexOf(begin);
  const j = i < 0 ? -1 : pem.indexOf(`-----END ${label}-----`, i + begin.length);
  if (i < 0 || j < 0) throw new DerError(`no PEM "${label}" block`);
  const text = pem.slice(i + begin.length, j);
  // Node's decoder skips whitespace but also anything else it does not know: check the alphabet first.
  if (!/^[A-Za-z0-9+/\s]*(=\s*){0,2}$/.test(text)) throw new DerError(`the PEM "${label}" block is not valid base64`);
  return Buffer.from(text, 'base64');
}

/** DER as PEM in node's layout (64-character lines, trailing newline), so it compares equal to KeyObject.export. */
export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}
