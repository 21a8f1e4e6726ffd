/**
 * siad without -cmd: get an identity, then keep it fresh until SIGTERM.
 *
 * The certificate of each service, each role certificate and the access
 * tokens are jobs of one loop (jobs.ts). A job that fails is retried with
 * backoff while the files on disk stay in place: an outage of ZTS or STS
 * costs retries, never the workload's current certificate, and never a crash
 * loop. Files that cannot refresh (missing, expired, another instance's,
 * refused) lead to a fresh registration instead of waiting for an interval.
 * A new service certificate makes the role certificates and tokens due at
 * once (they are bound to it).
 */
import { backoffDelay, backoffPolicy, SCHEDULE_JITTER } from './backoff.ts';
import { ConfigError, type RoleConfig, type ServiceConfig } from './config/types.ts';
import type { Agent } from './agent.ts';
import { ensureService, inspectService } from './service-cert.ts';
import { fetchRoleCert } from './role-cert.ts';
import { fetchAccessTokens } from './token-fetch.ts';
import { Hooks } from './hooks.ts';
import { JobLoop, type Job } from './jobs.ts';
import { HealthState } from './health.ts';
import type { HealthServer } from './health-server.ts';
import { readIfExists } from './files.ts';
import { fetchSvid } from './svid-cert.ts';
import { WorkloadIdentity } from './workload-identity.ts';
import type { SocketServer } from './workload-socket.ts';
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
  /** Runs after each pass of the loop, while nothing is due (main: a full GC). */
  idle?: () => void;
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    // setTimeout takes at most 2^31-1 ms (longer fires at once).
    const timer = setTimeout(done, Math.min(Math.max(0, ms), 2 ** 31 - 1));
    signal.addEventListener('abort', done, { once: true });
  });
}

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

/** Several failures as one error; retry no sooner than the longest Retry-After among them. */
class Failures extends Error {
  readonly retryAfterMs?: number;
  constructor(message: string, errors: Error[]) {
    super(message);
    const after = errors.map((e) => (e as { retryAfterMs?: number }).retryAfterMs ?? 0);
    if (Math.max(0, ...after) > 0) this.retryAfterMs = Math.max(...after);
  }
}

function serviceJob(a: Agent, svc: ServiceConfig, intervalMs: number, health: HealthState, deps: DaemonDeps, onNew: (st: { files: string[] }) => void): Job {
  const name = `${a.config.domain}.${svc.name}`;
  return {
    name,
    async renew(signal) {
      const st = await ensureService(a, svc, signal);
      const at = deps.now();
      health.refreshed(st.name, st.notAfter, at);
      const next = nextRefreshMs(intervalMs, at, st.notAfter);
      a.log(`${st.name}: certificate valid until ${st.notAfter.toISOString()}; next refresh in about ${seconds(next)}`);
      onNew(st);
      return { nextInMs: next, files: st.files };
    },
    failed(e, attempt, retryInMs) {
      health.failed(name, e.message, deps.now());
      const current = inspectService(a, svc);
      const still = current.usable ? `the current certificate stays in place, valid until ${current.notAfter.toISOString()}` : 'no valid certificate yet';
      a.log(`${name}: ${e.message}\n  attempt ${attempt} failed; ${still}; retrying in ${seconds(retryInMs)}`);
    },
  };
}

function roleJob(a: Agent, role: RoleConfig, intervalMs: number, health: HealthState, deps: DaemonDeps, identity?: WorkloadIdentity): Job {
  return {
    name: role.name,
    async renew(signal) {
      const c = await fetchRoleCert(a, role, signal);
      health.refreshed(c.name, c.notAfter, deps.now());
      if (identity) {
        const svc = a.config.services.find((x) => x.name === role.service) ?? a.config.services[0];
        const keyPem = (a.config.generateRoleKey ? readIfExists(role.keyFile) : undefined) ?? readIfExists(svc.keyFile);
        const certPem = readIfExists(role.certFile);
        if (keyPem && certPem) identity.update({ role: [role.name, { certPem, keyPem }] });
      }
      return { nextInMs: Math.min(intervalMs, nextRefreshMs(intervalMs, deps.now(), c.notAfter)), files: c.files };
    },
    failed(e, attempt, retryInMs) {
      health.failed(role.name, e.message, deps.now());
      a.log(`${role.name}: ${e.message}; attempt ${attempt} failed; retrying in ${seconds(retryInMs)}`);
    },
  };
}

/** The X509-SVID for the socket: after each new service certificate, and before the SVID reaches half its lifetime. */
function svidJob(a: Agent, intervalMs: number, deps: DaemonDeps, identity: WorkloadIdentity): Job {
  return {
    name: 'X509-SVID',
    async renew(signal) {
      const { notAfter, ...svid } = await fetchSvid(a, signal);
      identity.update({ svid });
      a.log(`X509-SVID ${svid.spiffeId}: valid until ${notAfter.toISOString()}; ${identity.subscribers} stream(s) told`);
      return { nextInMs: nextRefreshMs(intervalMs, deps.now(), notAfter), files: [] };
    },
    failed(e, attempt, retryInMs) {
      a.log(`X509-SVID: ${e.message}; attempt ${attempt} failed; retrying in ${seconds(retryInMs)}`);
    },
  };
}

/** All access tokens as one job: due when the first of them is (half its lifetime), or at the interval. */
function tokensJob(a: Agent, intervalMs: number, deps: DaemonDeps, hooks: Hooks): Job {
  return {
    name: 'access tokens',
    async renew(signal) {
      const { due, files, failed } = await fetchAccessTokens(a, signal);
      if (failed.length > 0 && !signal.aborted) {
        void hooks.tokensFailed(failed.map((f) => `${f.name}: ${f.error.message}`).join('; '));
        throw new Failures(`${failed.length} failed`, failed.map((f) => f.error));
      }
      return { nextInMs: Math.max(1_000, Math.min(due - deps.now().getTime(), intervalMs)), files };
    },
    failed(e, _attempt, retryInMs) {
      a.log(`access tokens: ${e.message}; retrying in ${seconds(retryInMs)}`);
    },
  };
}

export async function runDaemon(setup: (signal: AbortSignal) => Promise<Agent>, deps: DaemonDeps, signal: AbortSignal): Promise<void> {
  const a = await setUp(setup, deps, signal);
  if (!a) return;
  const intervalMs = a.config.refreshIntervalMinutes * 60_000;
  const policy = backoffPolicy(intervalMs);
  const health = new HealthState();
  const hooks = new Hooks(a.config, { log: a.log, env: a.env, signal, onResult: (hook, result) => health.hookRan(hook, result) });

  // What is on disk counts until something better arrives.
  for (const svc of a.config.services) {
    const f = inspectService(a, svc);
    health.track(`${a.config.domain}.${svc.name}`, f.usable ? f.notAfter : undefined);
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
    // prom-client and the HTTP server load only when the endpoint is on.
    const { startHealthServer } = await import('./health-server.ts');
    server = await startHealthServer(a.config.httpPort, health, deps.now, deps.healthHost);
    deps.onHealthPort?.(server.port);
    a.log(`health endpoint on port ${server.port}: GET /status, GET /certs, GET /metrics`);
  }

  // The socket and gRPC load only when a socket is configured.
  let socket: SocketServer | undefined;
  const identity = a.config.socket ? new WorkloadIdentity() : undefined;
  if (a.config.socket && identity) {
    const { socketPathOf, startWorkloadSocket } = await import('./workload-socket.ts');
    const { ztsJwtSource } = await import('./jwt-svid.ts');
    socket = await startWorkloadSocket(socketPathOf(a.config.socket), identity, { log: a.log, jwt: ztsJwtSource(a) });
  }
  const primary = a.config.services[0];
  /** The primary service's files, for the socket (what SDS serves as `default`). */
  const publishService = () => {
    const f = inspectService(a, primary);
    const bundlePem = readIfExists(`${a.config.certDir}/ca.cert.pem`);
    if (!identity || !f.usable) return;
    const spiffeId = parseCertificate(f.certPem).uris.find((u) => u.startsWith('spiffe://')) ?? '';
    identity.update({ service: { certPem: f.certPem, keyPem: f.keyPem, spiffeId }, ...(bundlePem ? { bundlePem } : {}) });
  };

  const loop = new JobLoop({ now: deps.now, sleep: deps.sleep, random: deps.random, policy });
  // Role certificates, the SVID and tokens wait for a service certificate, then follow each new one.
  const roleJobs = a.config.roles.map((r) => roleJob(a, r, intervalMs, health, deps, identity));
  const tokens = a.config.accessTokens.length > 0 ? tokensJob(a, intervalMs, deps, hooks) : undefined;
  const svid = identity ? svidJob(a, intervalMs, deps, identity) : undefined;
  const followers = [...roleJobs, ...(svid ? [svid] : []), ...(tokens ? [tokens] : [])];
  for (const svc of a.config.services) {
    loop.add(serviceJob(a, svc, intervalMs, health, deps, () => {
      if (svc === primary) publishService();
      followers.forEach((j) => loop.dueNow(j));
    }));
  }
  for (const j of followers) loop.add(j, Number.POSITIVE_INFINITY);
  const isToken = (j: Job) => j === tokens;

  a.log(
    `daemon: refreshing every ${seconds(intervalMs)} (up to ${SCHEDULE_JITTER * 100}% early, at random); ` +
      `retries back off from ${seconds(policy.initialMs)} to ${seconds(policy.maxMs)}`,
  );
  try {
    await loop.run(signal, ({ renewed, failed }) => {
      // Hooks run beside the loop (bounded by their time limit), never holding up a renewal.
      void hooks.afterCerts(renewed.filter((r) => !isToken(r.job)).flatMap((r) => r.files));
      void hooks.afterTokens(renewed.filter((r) => isToken(r.job)).flatMap((r) => r.files));
      const certsFailed = failed.filter((f) => !isToken(f.job)).map((f) => f.job.name);
      if (certsFailed.length > 0) void hooks.certsFailed(certsFailed);
      deps.idle?.();
    });
  } finally {
    await socket?.close();
    await server?.close();
    a.log('stopped');
  }
}
