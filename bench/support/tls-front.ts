/**
 * HTTPS in front of a plain-HTTP loopback server, as the real AWS endpoints
 * are: a benchmarked client then pays for TLS and its trust store, as it would
 * against AWS. The certificate is made here with openssl for 127.0.0.1;
 * `caFile` is what the client must trust (NODE_EXTRA_CA_CERTS for the AWS SDK).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface TlsFront {
  url: string;
  caFile: string;
  /** Requests passed on so far (the benchmark shows that its client went this way). */
  requests(): number;
  close(): Promise<void>;
}

export async function startTlsFront(target: string, dir: string): Promise<TlsFront> {
  const key = join(dir, 'tls-front.key.pem');
  const caFile = join(dir, 'tls-front.cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', caFile,
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  const to = new URL(target);
  let requests = 0;
  const server = createServer({ key: readFileSync(key), cert: readFileSync(caFile) }, (req, res) => {
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
    caFile,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
