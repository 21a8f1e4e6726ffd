/**
 * The optional health endpoint (sia_config http_port), as Athenz's:
 * `GET /status` is 200 while every tracked certificate is unexpired, 503
 * otherwise; `GET /certs` lists each certificate's expiry and last refresh
 * or failure.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CertHealth {
  expiry?: Date;
  lastRefresh?: Date;
  lastFailure?: Date;
  lastError?: string;
}

export class HealthState {
  readonly certs = new Map<string, CertHealth>();

  track(name: string, expiry: Date | undefined): void {
    const c = this.certs.get(name) ?? {};
    if (expiry) c.expiry = expiry;
    this.certs.set(name, c);
  }

  refreshed(name: string, expiry: Date, at: Date): void {
    this.certs.set(name, { ...this.certs.get(name), expiry, lastRefresh: at });
  }

  failed(name: string, error: string, at: Date): void {
    this.certs.set(name, { ...this.certs.get(name), lastFailure: at, lastError: error });
  }

  healthy(now: Date): boolean {
    if (this.certs.size === 0) return false;
    return [...this.certs.values()].every((c) => c.expiry !== undefined && c.expiry.getTime() > now.getTime());
  }

  report(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const [name, c] of this.certs) {
      out[name] = {
        ...(c.expiry ? { expiry_time: c.expiry.toISOString() } : {}),
        ...(c.lastRefresh ? { last_refresh_time: c.lastRefresh.toISOString() } : {}),
        ...(c.lastFailure ? { last_failure_time: c.lastFailure.toISOString() } : {}),
        ...(c.lastError ? { last_failure_error: c.lastError } : {}),
      };
    }
    return out;
  }
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** Listens on every interface (as Athenz), for the kubelet's or ECS's health check. */
export function startHealthServer(port: number, state: HealthState, now: () => Date, host = '0.0.0.0'): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://siad').pathname;
    if (path === '/status') {
      const ok = state.healthy(now());
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'certificate missing or expired\n');
    } else if (path === '/certs') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(state.report(), null, 2)}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /status or /certs\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`health endpoint cannot listen on port ${port}: ${e.message}`)));
    server.listen(port, host, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        }),
      });
    });
  });
}
