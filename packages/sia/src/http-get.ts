/**
 * The little of fetch that siad needs for metadata endpoints (the ECS agent,
 * IMDS), on node:http. Node's own fetch loads undici and compiles its
 * WebAssembly HTTP parser on first use: about 0.2 s of CPU and 40 MB of
 * resident memory in a process that otherwise needs neither (measured in
 * docs/benchmarks.md, "siad as a sidecar").
 *
 * Like fetch: an aborted signal rejects with the signal's reason (a
 * TimeoutError for AbortSignal.timeout), and any status is an answer.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpAnswer {
  status: number;
  ok: boolean;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export type HttpFetch = (url: string, init?: { method?: string; headers?: Record<string, string>; signal?: AbortSignal }) => Promise<HttpAnswer>;

export const httpFetch: HttpFetch = (url, init = {}) =>
  new Promise((resolve, reject) => {
    const { signal } = init;
    if (signal?.aborted) return reject(signal.reason);
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { method: init.method ?? 'GET', headers: init.headers ?? {} }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, text: async () => text, json: async () => JSON.parse(text) as unknown });
      });
    });
    function fail(e: Error) {
      signal?.removeEventListener('abort', onAbort);
      reject(e);
    }
    function onAbort() {
      req.destroy();
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', fail);
    req.end();
  });
