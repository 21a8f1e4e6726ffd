/**
 * A minimal JSON-over-HTTPS client on node:https, so that a private CA and a
 * client certificate (mTLS) can be given per request — which fetch cannot.
 */
import { request, type Agent } from 'node:https';
import type { SecureContext } from 'node:tls';

export interface HttpsRequest {
  method?: string;
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** PEM CA bundle that the server certificate must chain to. */
  ca?: string;
  /** PEM client certificate and key, for mTLS. */
  cert?: string;
  key?: string;
  /**
   * A TLS context made once (tls.createSecureContext) instead of ca/cert/key:
   * a client calling with the same CA and certificate again and again keeps
   * one context instead of parsing a new one per request.
   */
  secureContext?: SecureContext;
  /** The connection pool; false = a connection per request, nothing kept between calls. Node's global agent by default. */
  agent?: Agent | false;
  /** The name expected in the server's certificate, when it is not the URL's host. */
  servername?: string;
  timeoutMs?: number;
  /** The loopback (or other local) IPv4 address to send from, e.g. to appear as another client. */
  localAddress?: string;
  /** Aborting rejects with the AbortError. */
  signal?: AbortSignal;
}

export interface HttpsResponse<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

export function httpsJson<T = unknown>(req: HttpsRequest): Promise<HttpsResponse<T>> {
  const payload = req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  return new Promise((resolve, reject) => {
    const r = request(
      req.url,
      {
        method: req.method ?? 'GET',
        ...(req.secureContext ? { secureContext: req.secureContext } : { ca: req.ca, cert: req.cert, key: req.key }),
        ...(req.agent !== undefined ? { agent: req.agent } : {}),
        ...(req.servername ? { servername: req.servername } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
        ...(req.localAddress ? { localAddress: req.localAddress, family: 4 } : {}),
        headers: {
          accept: 'application/json',
          ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...req.headers,
        },
        timeout: req.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = undefined;
          if (text !== '') {
            try {
              body = JSON.parse(text);
            } catch {
              body = text;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as T, text });
        });
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`request to ${req.url} timed out`)));
    r.on('error', reject);
    if (payload !== undefined) r.write(payload);
    r.end();
  });
}
