/**
 * Propagation between replicas: how long after one replica acknowledged a
 * write another replica's decision reflects it. Two `tessera serve` (ZMS,
 * from the build) on one PostgreSQL; a role member is added on A, and B's
 * access check for that member (evaluated on B's in-memory snapshot, as ZTS's
 * decisions are) is asked every 2 ms until it grants; the time from A's 2xx to
 * the first grant is one sample. Measured in the same run with B notified
 * (LISTEN/NOTIFY, the default) and with B polling only (`--db-listen off`,
 * the 1 s poll as before the change feed).
 *
 *   node --import tsx bench/propagation.ts [--pushed 200] [--polled 40]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startTestPostgres } from '@tessera/store/test/support/postgres';
import { productionStart } from './support/process.ts';
import { startServe, type Served } from './support/serve.ts';
import { percentile as pct, printTable } from './support/stats.ts';

const ADMIN_PASSWORD = 'bench-admin-password';
const { values: opts } = parseArgs({ options: { pushed: { type: 'string', default: '200' }, polled: { type: 'string', default: '40' } } });
const PUSHED = Number(opts.pushed);
const POLLED = Number(opts.polled);
if (!(PUSHED > 0 && POLLED > 0)) throw new Error('--pushed and --polled take positive numbers');


async function ok(r: Promise<{ status: number; text: string }>, what: string): Promise<void> {
  const { status, text } = await r;
  if (status >= 300) throw new Error(`${what}: ${status} ${text}`);
}

/** Samples of write-on-A to grant-on-B, in ms. */
async function measure(a: Served, b: Served, auth: string, domain: string, samples: number): Promise<number[]> {
  await ok(a.call('POST', '/domain', { name: domain, adminUsers: ['user.admin'] }, auth), 'domain');
  await ok(a.call('PUT', `/domain/${domain}/role/readers`, { name: `${domain}:role.readers` }, auth), 'role');
  await ok(a.call('PUT', `/domain/${domain}/policy/readers`, {
    name: `${domain}:policy.readers`, assertions: [{ role: `${domain}:role.readers`, resource: `${domain}:data`, action: 'read', effect: 'ALLOW' }],
  }, auth), 'policy');
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const member = `user.m${i}`;
    await ok(a.call('PUT', `/domain/${domain}/role/readers/member/${member}`, { memberName: member }, auth), 'member');
    const acked = performance.now();
    for (;;) {
      const r = await b.call('GET', `/access/read/${domain}:data?principal=${member}`, undefined, auth);
      if (r.status === 200 && (JSON.parse(r.text) as { granted: boolean }).granted) break;
      await new Promise((done) => setTimeout(done, 2));
    }
    ms.push(performance.now() - acked);
  }
  return ms;
}

async function main(): Promise<void> {
  const pg = await startTestPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-propagation-'));
  const start = productionStart();
  const serve = (...args: string[]) => startServe(start, dir, { adminPassword: ADMIN_PASSWORD, args: ['--db', pg.url, '--only', 'zms', ...args] });
  const servers: Served[] = [];
  try {
    const a = await serve();
    servers.push(a);
    const pushed = await serve();
    servers.push(pushed);
    const polled = await serve('--db-listen', 'off');
    servers.push(polled);
    const auth = await a.adminToken();
    const rows = [
      ['B notified (LISTEN/NOTIFY), poll 1 s as backstop', await measure(a, pushed, auth, 'pushed', PUSHED)],
      ['B polling only, every 1 s (before)', await measure(a, polled, auth, 'polled', POLLED)],
    ] as const;
    console.log('Propagation: a role member added on replica A, until replica B\'s access check grants it (two ZMS from the build, one PostgreSQL)');
    printTable([['B', 'samples', 'p50 ms', 'p99 ms', 'max ms'], ...rows.map(([name, ms]) => [name, String(ms.length), pct(ms, 50).toFixed(1), pct(ms, 99).toFixed(1), Math.max(...ms).toFixed(1)])]);
  } finally {
    for (const s of servers) await s.stop();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
