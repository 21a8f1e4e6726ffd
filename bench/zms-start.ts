/**
 * The start of `tessera serve` (from the build, one process, ZMS only) on a
 * store of many domains, on SQLite and on PostgreSQL in the same run: time
 * from spawn to the first 200 (the server answers only once every domain is
 * in its snapshot), the server's CPU until then, and its peak RSS (issue 24:
 * 100k domains in at most 5 s and 600 MB).
 *
 * Each store is seeded straight through SQL (bench/support/seed-domains.ts);
 * PostgreSQL is a throwaway test cluster on loopback
 * (packages/store/test/support/postgres.ts). The starts alternate between the
 * stores, so a change in the machine's load touches both.
 *
 *   node --import tsx bench/zms-start.ts [--domains 100000] [--starts 3] [--stores sqlite,postgres]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '@tessera/store/open-store';
import { startTestPostgres, type TestPostgres } from '@tessera/store/test/support/postgres';
import { seedDomains } from './support/seed-domains.ts';
import { processStats, productionStart } from './support/process.ts';
import { startServe } from './support/serve.ts';
import { printTable } from './support/stats.ts';

const STORES = ['sqlite', 'postgres'] as const;
type StoreKind = (typeof STORES)[number];

const { values: opts } = parseArgs({
  options: {
    domains: { type: 'string', default: '100000' },
    starts: { type: 'string', default: '3' },
    stores: { type: 'string', default: STORES.join(',') },
  },
});
const DOMAINS = Number(opts.domains);
const STARTS = Number(opts.starts);
const KINDS = opts.stores.split(',') as StoreKind[];
if (!(DOMAINS > 0 && STARTS > 0)) throw new Error('--domains and --starts take positive numbers');
if (!KINDS.every((k) => STORES.includes(k))) throw new Error(`--stores takes a comma-separated list of ${STORES.join(', ')}`);

interface Start {
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-zms-start-'));
  let pg: TestPostgres | undefined;
  try {
    const targets = new Map<StoreKind, string>();
    for (const kind of KINDS) {
      if (kind === 'postgres') pg = await startTestPostgres();
      const target = kind === 'postgres' ? pg!.url : join(dir, 'tessera.db');
      const store = await openStore(target);
      await seedDomains(store.db, DOMAINS);
      await store.close();
      targets.set(kind, target);
    }
    const starts = new Map<StoreKind, Start[]>(KINDS.map((k) => [k, []]));
    for (let i = 0; i < STARTS; i++) {
      for (const kind of KINDS) {
        const s = await startServe(productionStart(), dir, { adminPassword: 'bench-admin-password', args: ['--db', targets.get(kind)!, '--only', 'zms'] });
        const { peakRssMb } = processStats(s.child.pid!);
        await s.stop();
        starts.get(kind)!.push({ seconds: s.firstOkMs / 1000, cpuSeconds: s.firstOkCpuMs / 1000, peakRssMb });
      }
    }
    const list = (xs: Start[], f: (x: Start) => string) => xs.map(f).join(', ');
    console.log(`Start of \`tessera serve --only zms\` (from the build, one process) on ${DOMAINS} domains, to the first 200; ${STARTS} starts each, alternating`);
    printTable([
      ['store', 'start→200 s', 'start CPU s', 'peak RSS MB'],
      ...KINDS.map((k) => {
        const xs = starts.get(k)!;
        return [k, list(xs, (x) => x.seconds.toFixed(2)), list(xs, (x) => x.cpuSeconds.toFixed(2)), list(xs, (x) => x.peakRssMb.toFixed(0))];
      }),
    ]);
  } finally {
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
