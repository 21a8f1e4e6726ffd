/**
 * Writes and signs PKCS#10 (RFC 2986) certificate requests, as siad sends
 * them: the subject, the key, and the SAN names as an extensionRequest
 * attribute, signed with SHA-256 by the key itself (node:crypto, no ASN.1
 * library to load).
 */
import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { OID } from './oids.ts';
import { extension, generalName, name, type GeneralName } from './certificate-writer.ts';
import { bitString, explicit, nullValue, oid, sequence, set, smallInteger } from './writer.ts';
import type { Subject } from '../names.ts';

/** The signed CSR, DER. `names` were checked for a valid encoding (names.ts generalNames). */
export function writeCsr(privateKey: KeyObject, subject: Subject, names: GeneralName[]): Buffer {
  const rsa = privateKey.asymmetricKeyType === 'rsa';
  if (!rsa && privateKey.asymmetricKeyType !== 'ec') throw new Error(`cannot sign a CSR with a ${privateKey.asymmetricKeyType} key: use RSA or EC`);
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  // attributes [0] IMPLICIT SET OF Attribute: the SAN in an extensionRequest, or none.
  const attributes = names.length > 0
    ? explicit(0, sequence(oid(OID.extensionRequest), set(sequence(extension(OID.subjectAltName, false, sequence(...names.map(generalName)))))))
    : explicit(0);
  const info = sequence(smallInteger(0), name(subject), spki, attributes);
  const algorithm = rsa ? sequence(oid(OID.sha256WithRSAEncryption), nullValue()) : sequence(oid(OID.ecdsaWithSHA256));
  // node signs ECDSA in the DER form X.509 uses; RSA with PKCS#1 v1.5 by default.
  return sequence(info, algorithm, bitString(sign('sha256', info, privateKey)));
}
