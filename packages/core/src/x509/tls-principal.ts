/** The principal an mTLS client proved: the CN of a client certificate that verified against the server's CA. */
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { certificateInfoFromDer, type CertificateInfo } from './certificate.ts';

interface Peer {
  principal?: string;
  certificate?: CertificateInfo;
  der?: Buffer;
  /** SHA-256 of the DER, base64url (an access token's `x5t#S256`), once asked for. */
  thumbprint?: string;
}

// Read once per connection, from the DER, by our own reader. The certificate a client proved at
// the handshake is its identity for the whole connection. getPeerCertificate() hands over the DER
// in ~60 µs; getPeerX509Certificate() takes ~230 µs (OpenSSL 3 parses the certificate again).
const peers = new WeakMap<TLSSocket, Peer>();

function peerOf(socket: TLSSocket): Peer {
  let p = peers.get(socket);
  if (!p) {
    p = {};
    const der = socket.getPeerCertificate(false)?.raw;
    if (der) {
      try {
        const certificate = certificateInfoFromDer(der);
        p = { certificate, der, ...(certificate.commonName ? { principal: certificate.commonName.toLowerCase() } : {}) };
      } catch {
        // Not strict DER: no principal. Our CA only issues strict DER, so this is not one of our clients.
      }
    }
    peers.set(socket, p);
  }
  return p;
}

export function tlsPrincipal(socket: TLSSocket): string | undefined {
  // `authorized` means the chain verified against the CA given to the TLS server.
  if (!socket.encrypted || !socket.authorized) return undefined;
  return peerOf(socket).principal;
}

/** The verified client certificate's fields, or undefined without one. */
export function tlsPeerCertificate(socket: TLSSocket): CertificateInfo | undefined {
  if (!socket.encrypted || !socket.authorized) return undefined;
  return peerOf(socket).certificate;
}

/** The verified client certificate's SHA-256 thumbprint (base64url), or undefined without one. */
export function tlsPeerThumbprint(socket: TLSSocket): string | undefined {
  if (!socket.encrypted || !socket.authorized) return undefined;
  const p = peerOf(socket);
  if (p.der) p.thumbprint ??= createHash('sha256').update(p.der).digest('base64url');
  return p.thumbprint;
}
