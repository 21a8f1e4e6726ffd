/** `tessera serve` as a child process, for the benchmarks: started, called over keep-alive TLS, stopped. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { processStats } from './process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Served {
  child: ChildProcess;
  zms: string;
  /** ZTS's base URL (…/zts/v1); '' when it does not run (--only zms). */
  zts: string;
  /** ms from spawn to the first 200 (the web UI's page: the server listens once the store is loaded). */
  firstOkMs: number;
  /** Server CPU ms used until then. */
  firstOkCpuMs: number;
  call(method: string, path: string, body?: unknown, auth?: string, headers?: Record<string, string>): Promise<{ status: number; text: string; ms: number; etag?: string }>;
  /** A bearer token of user.admin. */
  adminToken(): Promise<string>;
  stop(): Promise<void>;
}

export interface ServeOptions {
  adminPassword: string;
  /** Keep-alive connections to the server at most. */
  maxSockets?: number;
  /** More `serve` arguments (--db, --only, ...). */
  args?: string[];
  env?: Record<string, string>;
}

/** @param start node's arguments up to the command: options and the program */
export async function startServe(start: string[], dataDir: string, options: ServeOptions): Promise<Served> {
  const started = performance.now();
  const child = spawn(process.execPath, [...start, 'serve', '--data-dir', dataDir, '--zms-port', '0', '--zts-port', '0', '--log-level', 'error', ...(options.args ?? [])], {
    env: { ...process.env, TESSERA_ADMIN_PASSWORD: options.adminPassword, TESSERA_WORKERS: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  while (!/ZMS API\s+(\S+)/.test(out)) {
    if (child.exitCode !== null) throw new Error(`tessera serve exited:\n${out}`);
    await sleep(20);
  }
  const zms = /ZMS API\s+(\S+)/.exec(out)![1];
  const zts = /ZTS API\s+(https:\S+)/.exec(out)?.[1] ?? '';
  const agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 4, ca: readFileSync(join(dataDir, 'ca.cert.pem'), 'utf8') });
  const call: Served['call'] = (method, path, body, auth, headers = {}) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const t = performance.now();
      const req = request(path.startsWith('/zms/') || path === '/' ? new URL(path, zms) : `${zms}${path}`, {
        method, agent,
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...(auth ? { authorization: auth } : {}), ...headers },
      }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: performance.now() - t, ...(res.headers.etag ? { etag: res.headers.etag } : {}) }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  for (;;) {
    const r = await call('GET', '/').catch(() => ({ status: 0, text: '', ms: 0 }));
    if (r.status === 200) break;
    await sleep(20);
  }
  const firstOkMs = performance.now() - started;
  const firstOkCpuMs = processStats(child.pid!).cpuSeconds * 1000;
  return {
    child, zms, zts, firstOkMs, firstOkCpuMs, call,
    async adminToken() {
      const r = await call('GET', '/user/_self_/token', undefined, `Basic ${Buffer.from(`admin:${options.adminPassword}`).toString('base64')}`);
      return `Bearer ${(JSON.parse(r.text) as { token: string }).token}`;
    },
    async stop() {
      agent.destroy();
      child.kill('SIGTERM');
      await exited;
    },
  };
}
