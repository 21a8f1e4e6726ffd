/**
 * ZMS at scale: the same server with 1k, 10k and 100k domains, next to the
 * targets of issue 12 (there is no peer ZMS to run beside it; the "before"
 * figures are the issue's, measured on this machine before this work).
 *
 * For each size the store is seeded straight through SQL in one transaction
 * (bench/support/seed-domains.ts: ~1 s per 10k domains), then `tessera serve`
 * is started from the build (`npm run build`, one worker) and measured:
 * start to the first 200, idle RSS, server CPU per `PUT …/member` to random
 * domains (from /proc, over keep-alive TLS), `GET /sys/modified_domains`
 * latency, loaded and peak RSS. Also the idle RSS of a fresh `tessera serve`
 * from the build next to the same from the TypeScript sources.
 *
 *   node --import tsx bench/zms-scale.ts [--sizes 1000,10000,100000] [--requests 2000] [--concurrency 4]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openStore } from '@tessera/store/open-store';
import { seedDomains, seedName } from './support/seed-domains.ts';
import { processStats, productionStart } from './support/process.ts';
import { describeWarmUp, warmUntilSettled } from './support/warm-up.ts';
import { startServe as startServeProcess, type Served } from './support/serve.ts';
import { percentile as pct, printTable as table } from './support/stats.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const SOURCES = join(ROOT, 'packages/server/bin/tessera.js');
const ADMIN_PASSWORD = 'bench-admin-password';

const { values: opts } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,100000' },
    requests: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
  },
});
const SIZES = opts.sizes.split(',').map(Number);
const REQUESTS = Number(opts.requests);
const CONCURRENCY = Number(opts.concurrency);
if (!SIZES.every((n) => n > 0) || !(REQUESTS > 0 && CONCURRENCY > 0)) throw new Error('--sizes, --requests and --concurrency take positive numbers');

// ZTS's poll after a write: measured POLLS times after POLL_WARMUP unmeasured ones.
const POLL_WARMUP = 200;
const POLLS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The server's memory and CPU (ms) so far. */
function proc(pid: number): { rssMb: number; peakRssMb: number; cpuMs: number } {
  const { rssMb, peakRssMb, cpuSeconds } = processStats(pid);
  return { rssMb, peakRssMb, cpuMs: cpuSeconds * 1000 };
}

const startServe = (start: string[], dataDir: string) => startServeProcess(start, dataDir, { maxSockets: CONCURRENCY, adminPassword: ADMIN_PASSWORD });

const token = (s: Served) => s.adminToken();


interface Row {
  size: number;
  startS: number;
  startCpuS: number;
  idleRssMb: number;
  putCpuMs: number;
  putP50: number;
  modP50: number;
  modP99: number;
  modCpuMs: number;
  pollP50: number;
  pollP99: number;
  pollCpuMs: number;
  loadedRssMb: number;
  peakRssMb: number;
}

async function measureSize(size: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-zms-scale-'));
  try {
    const store = await openStore(join(dir, 'tessera.db'));
    await seedDomains(store.db, size);
    await store.close();

    const s = await startServe(productionStart(), dir);
    try {
      await sleep(3000);
      const idle = proc(s.child.pid!);
      const auth = await token(s); // (sign-in hashes with scrypt: 16 MB of memory, so idle RSS is read before)
      let k = 0;
      const put = async () => {
        const domain = seedName(Math.floor(Math.random() * size));
        const member = `user.m${k++}`;
        const r = await s.call('PUT', `/domain/${domain}/role/readers/member/${member}`, { memberName: member }, auth);
        if (r.status !== 204) throw new Error(`PUT member: ${r.status} ${r.text}`);
        return r.ms;
      };
      const run = async (n: number) => {
        const ms: number[] = [];
        let left = n;
        await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
          while (left-- > 0) ms.push(await put());
        }));
        return ms;
      };
      console.log(describeWarmUp(`PUT …/member at ${size} domains`, await warmUntilSettled(s.child.pid!, run)));
      let before = proc(s.child.pid!);
      const putMs = await run(REQUESTS);
      let after = proc(s.child.pid!);
      const putCpuMs = (after.cpuMs - before.cpuMs) / REQUESTS;

      const calls = size >= 100_000 ? 20 : 50;
      await s.call('GET', '/sys/modified_domains?metaonly=true', undefined, auth);
      before = proc(s.child.pid!);
      const modMs: number[] = [];
      for (let i = 0; i < calls; i++) {
        const r = await s.call('GET', '/sys/modified_domains?metaonly=true', undefined, auth);
        if (r.status !== 200) throw new Error(`modified_domains: ${r.status} ${r.text.slice(0, 200)}`);
        modMs.push(r.ms);
      }
      after = proc(s.child.pid!);
      const modCpuMs = (after.cpuMs - before.cpuMs) / calls;

      // As ZTS polls (every second): If-None-Match with the last ETag answers only the domains
      // changed since, here the one a PUT just changed (the PUT is not counted).
      let etag = (await s.call('GET', '/sys/modified_domains?metaonly=true', undefined, auth)).etag!;
      const poll = async () => {
        await put();
        const c0 = proc(s.child.pid!).cpuMs;
        const r = await s.call('GET', '/sys/modified_domains?metaonly=true', undefined, auth, { 'if-none-match': etag });
        const cpuMs = proc(s.child.pid!).cpuMs - c0;
        if (r.status !== 200 || (JSON.parse(r.text) as { domains: unknown[] }).domains.length !== 1) throw new Error(`poll: ${r.status} ${r.text.slice(0, 200)}`);
        etag = r.etag!;
        return { ms: r.ms, cpuMs };
      };
      for (let i = 0; i < POLL_WARMUP; i++) await poll(); // a long-running ZMS has answered many polls
      let pollCpu = 0;
      const pollMs: number[] = [];
      for (let i = 0; i < POLLS; i++) {
        const p = await poll();
        pollCpu += p.cpuMs;
        pollMs.push(p.ms);
      }
      after = proc(s.child.pid!);
      return {
        size,
        startS: s.firstOkMs / 1000,
        startCpuS: s.firstOkCpuMs / 1000,
        idleRssMb: idle.rssMb,
        putCpuMs,
        putP50: pct(putMs, 50),
        modP50: pct(modMs, 50),
        modP99: pct(modMs, 99),
        modCpuMs,
        pollP50: pct(pollMs, 50),
        pollP99: pct(pollMs, 99),
        pollCpuMs: pollCpu / POLLS,
        loadedRssMb: after.rssMb,
        peakRssMb: after.peakRssMb,
      };
    } finally {
      await s.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Idle means after V8's memory reducer has run: it gives back the young generation that start-up
// grew (up to 16 MB per semi-space) once the process has been quiet for about 20 s.
const IDLE_AFTER_MS = 40_000;

async function idleRss(start: string[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-idle-'));
  try {
    const s = await startServe(start, dir);
    await sleep(IDLE_AFTER_MS);
    const { rssMb } = proc(s.child.pid!);
    await s.stop();
    return rssMb;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ratio = (value: number, target: number) => `${(value / target).toFixed(2)}×`;

async function main(): Promise<void> {
  // One after the other: a second server starting beside it can put V8's memory reducer off.
  const fromBuild = await idleRss(productionStart());
  const fromSources = await idleRss([SOURCES]);
  console.log(`Idle RSS of a fresh \`tessera serve\` (one process, empty store, ${IDLE_AFTER_MS / 1000} s after start)`);
  table([
    ['start', 'idle RSS MB', 'target MB', 'ratio to target'],
    ['from the build, as npm start runs it', fromBuild.toFixed(0), '100', ratio(fromBuild, 100)],
    ['from the sources (tsx), before', fromSources.toFixed(0), '100', ratio(fromSources, 100)],
  ]);

  const rows: Row[] = [];
  for (const size of SIZES) rows.push(await measureSize(size));
  console.log(`ZMS scale: SQLite, one process from the build; ${REQUESTS} PUT …/member to random domains, ${CONCURRENCY} at a time, keep-alive TLS`);
  table([
    ['domains', 'start→200 s', 'start CPU s', 'idle RSS MB', 'PUT CPU ms', 'PUT p50 ms', 'all domains p50 ms', 'p99 ms', 'CPU ms/call', 'poll p50 ms', 'p99 ms', 'CPU ms/call', 'loaded RSS MB', 'peak RSS MB'],
    ...rows.map((r) => [
      String(r.size), r.startS.toFixed(1), r.startCpuS.toFixed(1), r.idleRssMb.toFixed(0), r.putCpuMs.toFixed(2), r.putP50.toFixed(1),
      r.modP50.toFixed(1), r.modP99.toFixed(1), r.modCpuMs.toFixed(1), r.pollP50.toFixed(2), r.pollP99.toFixed(2), r.pollCpuMs.toFixed(2),
      r.loadedRssMb.toFixed(0), r.peakRssMb.toFixed(0),
    ]),
  ]);

  // Against issue 12's targets; "before" = the issue's figures for the code before this work.
  const base = rows.find((r) => r.size === 1000) ?? rows[0];
  const before: Record<number, { put?: string; start?: string; rss?: string; mod?: string }> = {
    1000: { put: '3.3' },
    10000: { put: '18–31', start: '8.6', rss: '625', mod: '22 (p99 332)' },
  };
  const targets = rows.flatMap((r) => {
    const out: string[][] = [];
    const b = before[r.size] ?? {};
    out.push([`${r.size}`, 'PUT CPU / CPU at 1k', `${(r.putCpuMs / base.putCpuMs).toFixed(2)}× (${r.putCpuMs.toFixed(2)} ms)`, b.put ? `${b.put} ms` : '', '≤ 1.5×', ratio(r.putCpuMs / base.putCpuMs, 1.5)]);
    const startTarget = r.size >= 100_000 ? 10 : 3;
    out.push(['', 'start to first 200', `${r.startS.toFixed(1)} s (CPU ${r.startCpuS.toFixed(1)} s)`, b.start ? `${b.start} s` : '', `≤ ${startTarget} s`, ratio(r.startS, startTarget)]);
    const rssTarget = r.size >= 100_000 ? 1536 : 300;
    out.push(['', 'peak RSS', `${r.peakRssMb.toFixed(0)} MB`, b.rss ? `${b.rss} MB` : '', `≤ ${rssTarget} MB`, ratio(r.peakRssMb, rssTarget)]);
    out.push(['', 'modified_domains poll p50 (If-None-Match)', `${r.pollP50.toFixed(2)} ms`, b.mod ? `${b.mod} ms` : '', '≤ 1 ms', ratio(r.pollP50, 1)]);
    out.push(['', 'modified_domains, all domains p50', `${r.modP50.toFixed(1)} ms`, '', '(first sync of a new ZTS)', '']);
    return out;
  });
  console.log('Against the targets (issue 12); a ratio ≤ 1.00× meets the target');
  table([['domains', 'figure', 'measured', 'before', 'target', 'ratio to target'], ...targets]);
}

await main();
