/**
 * What a request costs ZTS before it does any work of its own: server CPU per
 * request for a new TLS connection each (as siad connects to register) and
 * over keep-alive, for a bare Node HTTPS server, bare Fastify (both with
 * ZTS's TLS options and key, bench/peers/bare-https-server.ts) and `tessera
 * serve`'s `GET /zts/v1/status`, in the same run. Docs: docs/benchmarks.md,
 * "Register by token".
 *
 *   node --import tsx bench/tls-floor.ts [--requests N] [--concurrency C]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { parseArgs } from 'node:util';
import { httpsJson } from '@tessera/core/https-client';
import { processStats, productionStart, start } from './support/process.ts';
import { printTable } from './support/stats.ts';
import { warmUntilSettled } from './support/warm-up.ts';

const { values: opts } = parseArgs({ options: { requests: { type: 'string', default: '3000' }, concurrency: { type: 'string', default: '8' } } });
const REQUESTS = Number(opts.requests);
const CONCURRENCY = Number(opts.concurrency);

/** Server CPU ms per request over REQUESTS requests, C at a time, once the server's CPU per request has settled. */
async function cpuPerRequest(pid: number, url: string, secureContext: SecureContext, keepAlive: boolean): Promise<number> {
  const agent = keepAlive ? new Agent({ keepAlive: true, maxSockets: CONCURRENCY }) : new Agent({ keepAlive: false, maxCachedSessions: 0 });
  const run = async (n: number) => {
    let sent = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (sent++ < n) {
        const res = await httpsJson({ url, secureContext, servername: 'localhost', agent });
        if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
      }
    }));
  };
  await warmUntilSettled(pid, run);
  const before = processStats(pid).cpuSeconds;
  await run(REQUESTS);
  agent.destroy();
  return ((processStats(pid).cpuSeconds - before) * 1000) / REQUESTS;
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-tls-'));
const children: { kill(): boolean }[] = [];
try {
  const tessera = await start(process.execPath, [...productionStart(), 'serve', '--data-dir', dir, '--zms-port', '0', '--zts-port', '0', '--log-level', 'error', '--workers', '1'],
    { ...process.env, TESSERA_ADMIN_PASSWORD: 'bench-admin-password' }, / {2}Store {5}.*\n/);
  children.push(tessera.child);
  const peer = async (kind: 'node' | 'fastify'): Promise<[string, number, string]> => {
    const p = await start(process.execPath, ['--import', 'tsx', new URL('./peers/bare-https-server.ts', import.meta.url).pathname, kind, dir], process.env, /port \d+\n/);
    children.push(p.child);
    return [`bare ${kind === 'node' ? 'Node HTTPS' : 'Fastify'} (peer), fixed answer`, p.child.pid!, `https://127.0.0.1:${/port (\d+)/.exec(p.out())![1]}/`];
  };
  const targets: [string, number, string][] = [
    await peer('node'),
    await peer('fastify'),
    ['tessera serve, ZTS GET /zts/v1/status', tessera.child.pid!, `${/ZTS API\s+(\S+)/.exec(tessera.out())![1]}/status`],
  ];
  // One client context: the load generator shares the two cores with the server it measures.
  const ca = createSecureContext({ ca: readFileSync(join(dir, 'ca.cert.pem'), 'utf8') });
  console.log(`${REQUESTS} requests each once the server's CPU per request has settled, ${CONCURRENCY} at a time; server CPU from /proc`);
  const rows = [['server', 'new TLS connection each, CPU ms/request', 'keep-alive, CPU ms/request']];
  for (const [name, pid, url] of targets) {
    rows.push([name, (await cpuPerRequest(pid, url, ca, false)).toFixed(3), (await cpuPerRequest(pid, url, ca, true)).toFixed(3)]);
  }
  printTable(rows);
} finally {
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
}
