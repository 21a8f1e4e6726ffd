/**
 * siad without -cmd: get an identity, then keep it fresh until SIGTERM.
 *
 * Each service certificate and the set of role certificates is a job with a
 * due time. A job that fails is retried with exponential backoff and jitter
 * while the files on disk stay in place: an outage of ZTS or STS costs
 * retries, never the workload's current certificate, and never a crash loop.
 * Files that cannot refresh (missing, expired, another instance's, refused)
 * lead to a fresh registration instead of waiting for an interval.
 * Scheduled refreshes come a little early at random (backoff.ts
 * SCHEDULE_JITTER) so that a fleet spreads out; a retry never comes sooner
 * than the Retry-After ZTS sent with a 503 or 429.
 */
import { backoffDelay, backoffPolicy, jitteredDelay, retryDelay, SCHEDULE_JITTER } from './backoff.ts';
import { ConfigError } from './config/types.ts';
import { ensureService, fetchAccessTokens, fetchRoleCerts, inspectService, runHook, type Agent } from './commands.ts';
import { ZtsUnavailable } from './zts-client.ts';
import { HealthState, startHealthServer, type HealthServer } from './health.ts';
import { readIfExists } from './files.ts';
import { parseCertificate } from '@tessera/core/x509/certificate';

export interface DaemonDeps {
  now: () => Date;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  random: () => number;
  log: (line: string) => void;
  /** Host for the health endpoint (all interfaces unless a test narrows it). */
  healthHost?: string;
  /** Told the health endpoint's port once it listens. */
  onHealthPort?: (port: number) => void;
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener('abort', done, { once: true });
  });
}

const retryAfterOf = (e: unknown) => (e instanceof ZtsUnavailable ? e.retryAfterMs : undefined);

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;

/** When to refresh next: the interval, or sooner when the certificate would not last that long. */
export function nextRefreshMs(intervalMs: number, now: Date, notAfter: Date): number {
  const half = (notAfter.getTime() - now.getTime()) / 2;
  return Math.max(1_000, Math.min(intervalMs, half));
}

/** Sets up the agent, retrying what may be passing (AWS or metadata unreachable); a ConfigError ends siad. */
async function setUp(setup: (signal: AbortSignal) => Promise<Agent>, deps: DaemonDeps, signal: AbortSignal): Promise<Agent | undefined> {
  const policy = { initialMs: 1_000, maxMs: 60_000 };
  for (let failures = 1; !signal.aborted; failures++) {
    try {
      return await setup(signal);
    } catch (e) {
      if (e instanceof ConfigError || signal.aborted) throw e;
      const delay = backoffDelay(failures, policy, deps.random);
      deps.log(`cannot start yet: ${(e as Error).message}; retrying in ${seconds(delay)}`);
      await deps.sleep(delay, signal);
    }
  }
  return undefined;
}

export async function runDaemon(setup: (signal: AbortSignal) => Promise<Agent>, deps: DaemonDeps, signal: AbortSignal): Promise<void> {
  const a = await setUp(setup, deps, signal);
  if (!a) return;
  const intervalMs = a.config.refreshIntervalMinutes * 60_000;
  const policy = backoffPolicy(intervalMs);
  const health = new HealthState();
  const serviceName = (s: string) => `${a.config.domain}.${s}`;

  // What is on disk counts until something better arrives.
  for (const svc of a.config.services) {
    const f = inspectService(a, svc);
    health.track(serviceName(svc.name), f.usable ? f.notAfter : undefined);
  }
  for (const role of a.config.roles) {
    let expiry: Date | undefined;
    try {
      const pem = readIfExists(role.certFile);
      expiry = pem ? parseCertificate(pem).notAfter : undefined;
    } catch {
      expiry = undefined;
    }
    health.track(role.name, expiry);
  }

  let server: HealthServer | undefined;
  if (a.config.httpPort > 0) {
    server = await startHealthServer(a.config.httpPort, health, deps.now, deps.healthHost);
    deps.onHealthPort?.(server.port);
    a.log(`health endpoint on port ${server.port}: GET /status, GET /certs`);
  }

  const jobs = new Map(a.config.services.map((s) => [s.name, { due: 0, failures: 0 }]));
  const roles = { due: Number.POSITIVE_INFINITY, failures: 0 };
  // Access tokens follow each new service certificate (they are bound to it), then half way through their lifetime.
  const tokens = { due: Number.POSITIVE_INFINITY, failures: 0 };
  a.log(
    `daemon: refreshing every ${seconds(intervalMs)} (up to ${SCHEDULE_JITTER * 100}% early, at random); ` +
      `retries back off from ${seconds(policy.initialMs)} to ${seconds(policy.maxMs)}`,
  );

  try {
    while (!signal.aborted) {
      let changed = false;
      for (const svc of a.config.services) {
        const job = jobs.get(svc.name)!;
        const now = deps.now();
        if (now.getTime() < job.due) continue;
        try {
          const st = await ensureService(a, svc, signal);
          const at = deps.now();
          health.refreshed(st.name, st.notAfter, at);
          job.failures = 0;
          const next = jitteredDelay(nextRefreshMs(intervalMs, at, st.notAfter), deps.random);
          job.due = at.getTime() + next;
          changed = true;
          a.log(`${st.name}: certificate valid until ${st.notAfter.toISOString()}; next refresh in ${seconds(next)}`);
        } catch (e) {
          if (signal.aborted) break;
          const at = deps.now();
          job.failures++;
          const delay = retryDelay(job.failures, policy, deps.random, retryAfterOf(e));
          job.due = at.getTime() + delay;
          health.failed(serviceName(svc.name), (e as Error).message, at);
          const current = inspectService(a, svc);
          const still = current.usable ? `the current certificate stays in place, valid until ${current.notAfter.toISOString()}` : 'no valid certificate yet';
          a.log(`${serviceName(svc.name)}: ${(e as Error).message}\n  attempt ${job.failures} failed; ${still}; retrying in ${seconds(delay)}`);
          void runHook(a, a.config.runAfterCertsErr, serviceName(svc.name));
        }
      }
      if (signal.aborted) break;
      // New service certificates: role certificates follow right away (they are capped at the service certificate's expiry).
      if (changed && a.config.roles.length > 0) roles.due = 0;
      if (changed && a.config.roles.length === 0) void runHook(a, a.config.runAfter);
      if (changed && a.config.accessTokens.length > 0) tokens.due = 0;

      if (a.config.roles.length > 0 && deps.now().getTime() >= roles.due) {
        const { certs, failed } = await fetchRoleCerts(a, signal);
        if (signal.aborted) break;
        const at = deps.now();
        for (const c of certs) health.refreshed(c.name, c.notAfter, at);
        for (const f of failed) health.failed(f.role, f.error.message, at);
        if (failed.length > 0) {
          roles.failures++;
          const delay = retryDelay(roles.failures, policy, deps.random, Math.max(0, ...failed.map((f) => retryAfterOf(f.error) ?? 0)));
          roles.due = at.getTime() + delay;
          a.log(`role certificates: ${failed.length} failed; retrying in ${seconds(delay)}`);
          void runHook(a, a.config.runAfterCertsErr, failed.map((f) => f.role).join(','));
        } else {
          roles.failures = 0;
          roles.due = at.getTime() + jitteredDelay(intervalMs, deps.random);
        }
        void runHook(a, a.config.runAfter);
      }

      if (a.config.accessTokens.length > 0 && deps.now().getTime() >= tokens.due) {
        const { due, failed } = await fetchAccessTokens(a, signal);
        if (signal.aborted) break;
        const at = deps.now().getTime();
        if (failed.length > 0) {
          tokens.failures++;
          const delay = retryDelay(tokens.failures, policy, deps.random, Math.max(0, ...failed.map((f) => retryAfterOf(f.error) ?? 0)));
          tokens.due = at + delay;
          a.log(`access tokens: ${failed.length} failed; retrying in ${seconds(delay)}`);
        } else {
          tokens.failures = 0;
          tokens.due = at + Math.max(1_000, jitteredDelay(Math.min(due - at, intervalMs), deps.random));
        }
      }

      const next = Math.min(...[...jobs.values()].map((j) => j.due), roles.due, tokens.due);
      await deps.sleep(next - deps.now().getTime(), signal);
    }
  } finally {
    await server?.close();
    a.log('stopped');
  }
}
