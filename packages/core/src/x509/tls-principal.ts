/** The principal an mTLS client proved: the CN of a client certificate that verified against the server's CA. */
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { certificateInfoFromDer, type CertificateInfo } from './certificate.ts';

export interface TlsPeer {
  principal?: string;
  certificate?: CertificateInfo;
  /** SHA-256 of the certificate's DER, base64url (an access token's `x5t#S256`). */
  thumbprint?: string;
}

// Read once per connection, from the DER, by our own reader. The certificate a client proved at
// the handshake is its identity for the whole connection. getPeerCertificate() hands over the DER
// in ~60 µs; getPeerX509Certificate() takes ~230 µs (OpenSSL 3 parses the certificate again).
const peers = new WeakMap<TLSSocket, TlsPeer>();

function peerOf(socket: TLSSocket): TlsPeer {
  let p = peers.get(socket);
  if (!p) {
    p = {};
    const der = socket.getPeerCertificate(false)?.raw;
    if (der) {
      try {
        const certificate = certificateInfoFromDer(der);
        const thumbprint = createHash('sha256').update(der).digest('base64url');
        p = { certificate, thumbprint, ...(certificate.commonName ? { principal: certificate.commonName.toLowerCase() } : {}) };
      } catch {
        // Not strict DER: no principal. Our CA only issues strict DER, so this is not one of our clients.
      }
    }
    peers.set(socket, p);
  }
  return p;
}

/** What the client proved with a certificate that verified against the CA given to the TLS server (empty without one). */
export function tlsPeer(socket: TLSSocket): Readonly<TlsPeer> {
  if (!socket.encrypted || !socket.authorized) return {};
  return peerOf(socket);
}

export const tlsPrincipal = (socket: TLSSocket): string | undefined => tlsPeer(socket).principal;

/**
 * Why a TLS client proved no principal, for the refusal it gets: without a
 * reason, "send your certificate" is all a client that did send one hears.
 */
export function missingPrincipalReason(socket: TLSSocket): string {
  const presented = socket.getPeerCertificate(false)?.raw !== undefined;
  if (!presented) return 'no client certificate was presented';
  if (!socket.authorized) return `the client certificate did not verify against this server's CA: ${String(socket.authorizationError)}`;
  return 'the client certificate is not strict DER or has no common name';
}

/** The verified client certificate's fields, or undefined without one. */
export const tlsPeerCertificate = (socket: TLSSocket): CertificateInfo | undefined => tlsPeer(socket).certificate;
