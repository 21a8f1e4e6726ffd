/** The principal an mTLS client proved: the CN of a client certificate that verified against the server's CA. */
import type { TLSSocket } from 'node:tls';

interface Peer {
  principal?: string;
  certificateDer?: Buffer;
}

// getPeerCertificate() builds a large object on every call: read it once per connection.
// The certificate a client proved at the handshake stays its identity for the connection.
const peers = new WeakMap<TLSSocket, Peer>();

function peerOf(socket: TLSSocket): Peer {
  let p = peers.get(socket);
  if (!p) {
    const cert = socket.getPeerCertificate();
    const cn = cert?.subject?.CN;
    p = {
      ...(typeof cn === 'string' && cn !== '' ? { principal: cn.toLowerCase() } : {}),
      ...(cert?.raw ? { certificateDer: cert.raw } : {}),
    };
    peers.set(socket, p);
  }
  return p;
}

export function tlsPrincipal(socket: TLSSocket): string | undefined {
  // `authorized` means the chain verified against the CA given to the TLS server.
  if (!socket.encrypted || !socket.authorized) return undefined;
  return peerOf(socket).principal;
}

/** The DER of the verified client certificate, or undefined without one. */
export function tlsPeerCertificateDer(socket: TLSSocket): Buffer | undefined {
  if (!socket.encrypted || !socket.authorized) return undefined;
  return peerOf(socket).certificateDer;
}
