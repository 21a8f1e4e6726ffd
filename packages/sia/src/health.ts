/**
 * The optional health endpoint (sia_config http_port), as Athenz's:
 * `GET /status` is 200 while every tracked certificate is unexpired, 503
 * otherwise; `GET /certs` lists each certificate's expiry and last refresh
 * or failure. `GET /metrics` has the same in Prometheus' text format
 * (health-server.ts, loaded only when the endpoint is on).
 */
import type { HookName, HookResult } from './hooks.ts';

export interface CertHealth {
  expiry?: Date;
  lastRefresh?: Date;
  lastFailure?: Date;
  lastError?: string;
  refreshes?: number;
  failures?: number;
}

export class HealthState {
  readonly certs = new Map<string, CertHealth>();
  /** Hook runs by `<hook> <result>`. */
  readonly hookRuns = new Map<string, number>();

  hookRan(hook: HookName, result: HookResult): void {
    if (result === 'skipped') return;
    const key = `${hook} ${result}`;
    this.hookRuns.set(key, (this.hookRuns.get(key) ?? 0) + 1);
  }

  track(name: string, expiry: Date | undefined): void {
    const c = this.certs.get(name) ?? {};
    if (expiry) c.expiry = expiry;
    this.certs.set(name, c);
  }

  refreshed(name: string, expiry: Date, at: Date): void {
    const c = this.certs.get(name);
    this.certs.set(name, { ...c, expiry, lastRefresh: at, refreshes: (c?.refreshes ?? 0) + 1 });
  }

  failed(name: string, error: string, at: Date): void {
    const c = this.certs.get(name);
    this.certs.set(name, { ...c, lastFailure: at, lastError: error, failures: (c?.failures ?? 0) + 1 });
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
