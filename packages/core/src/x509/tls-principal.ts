/** The principal an mTLS client proved: the CN of a client certificate that verified against the server's CA. */
import type { TLSSocket } from 'node:tls';

export function tlsPrincipal(socket: TLSSocket): string | undefined {
  // `authorized` means the chain verified against the CA given to the TLS server.
  if (!socket.encrypted || !socket.authorized) return undefined;
  const cn = socket.getPeerCertificate()?.subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn.toLowerCase() : undefined;
}
