/** The health endpoint's HTTP server and its Prometheus metrics. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { HealthState } from './health.ts';

/** The state as Prometheus metrics, read at scrape time, on a registry of its own. */
export function healthMetrics(state: HealthState, now: () => Date): Registry {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: 'siad_certificate_expiry_seconds',
    help: 'Seconds until each certificate expires (negative once expired)',
    labelNames: ['name'],
    registers,
    collect() {
      this.reset();
      for (const [name, c] of state.certs) if (c.expiry) this.set({ name }, (c.expiry.getTime() - now().getTime()) / 1000);
    },
  });
  new Counter({
    name: 'siad_refresh_total',
    help: 'Certificate fetches (register or refresh) by certificate and result (success, failure)',
    labelNames: ['name', 'result'],
    registers,
    collect() {
      this.reset();
      for (const [name, c] of state.certs) {
        this.inc({ name, result: 'success' }, c.refreshes ?? 0);
        this.inc({ name, result: 'failure' }, c.failures ?? 0);
      }
    },
  });
  new Counter({
    name: 'siad_hook_runs_total',
    help: 'Hook runs (run_after...) by hook and result (ok, failed, timeout)',
    labelNames: ['hook', 'result'],
    registers,
    collect() {
      this.reset();
      for (const [key, n] of state.hookRuns) {
        const [hook, result] = key.split(' ');
        this.inc({ hook, result }, n);
      }
    },
  });
  new Gauge({
    name: 'siad_last_error_timestamp_seconds',
    help: 'When the last fetch of each certificate failed (Unix time)',
    labelNames: ['name'],
    registers,
    collect() {
      this.reset();
      for (const [name, c] of state.certs) if (c.lastFailure) this.set({ name }, c.lastFailure.getTime() / 1000);
    },
  });
  return registry;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** Listens on every interface (as Athenz), for the kubelet's or ECS's health check. */
export function startHealthServer(port: number, state: HealthState, now: () => Date, host = '0.0.0.0'): Promise<HealthServer> {
  const metrics = healthMetrics(state, now);
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
    } else if (path === '/metrics') {
      metrics.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${e.message}\n`),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /status, /certs or /metrics\n');
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
