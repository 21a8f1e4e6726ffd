/**
 * HTTPS in front of a plain-HTTP loopback server, as the real AWS endpoints
 * are: a benchmarked client then pays for TLS and its trust store, as it would
 * against AWS. It serves the certificate and key it is given (a Tessera
 * server's own, valid for 127.0.0.1), so the client trusts it through that CA.
 */
import { request } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface TlsFront {
  url: string;
  /** Requests passed on so far (the benchmark shows that its client went this way). */
  requests(): number;
  close(): Promise<void>;
}

export async function startTlsFront(target: string, tls: { key: Buffer; cert: Buffer }): Promise<TlsFront> {
  const to = new URL(target);
  let requests = 0;
  const server = createServer(tls, (req, res) => {
    requests++;
    const upstream = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
