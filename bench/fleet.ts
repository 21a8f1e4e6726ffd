/**
 * A fleet on three replicas: 100k workloads whose certificates three
 * `tessera serve` (from the build, one worker each) on one PostgreSQL keep
 * issuing — the daily refresh spread (every instance refreshes once a day:
 * 100k a day is about 1.2 a second) and a roll of 10k pods in 5 minutes
 * (about 33 registers a second) on top of it.
 *
 * The 100k existing instances are seeded straight into `cert_records` (as
 * many registers through the API would take an hour); a pool of instances
 * registered through ZTS does the refreshing, each with its latest
 * certificate. Requests go round-robin to the three replicas' ZTS, each over
 * a new TLS connection as siad makes them, at a fixed rate (open loop: a slow
 * answer does not slow the arrivals), attested with STS (aws-sim, in this
 * process). Printed per phase: p50/p99 latency, the replicas' CPU per
 * certificate and PostgreSQL's (in all, and above what they use idle, measured
 * first for 20 s), and what the database grew by, extrapolated to a day.
 *
 *   node --import tsx bench/fleet.ts [--instances 100000] [--roll 10000] [--roll-seconds 300] [--steady-seconds 60] [--pool 100]
 *
 * `--roll-seconds 60` compresses the roll for a quick run (the same 10k
 * registers at five times the rate); the output says so.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { startAwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { createCsr } from '@tessera/core/x509/csr';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { openStore, type Store } from '@tessera/store/open-store';
import { startTestPostgres } from '@tessera/store/test/support/postgres';
import { processStats, productionStart } from './support/process.ts';
import { startServe, type Served } from './support/serve.ts';
import { percentile as pct, printTable as table } from './support/stats.ts';

const ADMIN_PASSWORD = 'bench-admin-password';
const ACCOUNT = '123456789012';
const PROVIDER = 'athenz.aws.us-west-2';
const DAY_S = 86_400;
const ROLL_TARGET_S = 300;
const IDLE_S = 20;

const { values: opts } = parseArgs({
  options: {
    instances: { type: 'string', default: '100000' },
    roll: { type: 'string', default: '10000' },
    'roll-seconds': { type: 'string', default: String(ROLL_TARGET_S) },
    'steady-seconds': { type: 'string', default: '60' },
    pool: { type: 'string', default: '100' },
  },
});
const INSTANCES = Number(opts.instances);
const ROLL = Number(opts.roll);
const ROLL_S = Number(opts['roll-seconds']);
const STEADY_S = Number(opts['steady-seconds']);
const POOL = Number(opts.pool);
if (![INSTANCES, ROLL, ROLL_S, STEADY_S, POOL].every((n) => n > 0)) throw new Error('--instances, --roll, --roll-seconds, --steady-seconds and --pool take positive numbers');
const REFRESH_PER_S = INSTANCES / DAY_S;


/** POSTs JSON over a new TLS connection (no session reuse, as siad); resolves with the certificate. */
function post(url: string, body: unknown, tls: { ca: string; cert?: string; key?: string }, expect: number): Promise<string> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, ...tls, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'user-agent': 'SIA-AWS bench' } }, (res) => {
      let out = '';
      res.on('data', (c: Buffer) => (out += c));
      res.on('end', () => (res.statusCode === expect ? resolve((JSON.parse(out) as { x509Certificate: string }).x509Certificate) : reject(new Error(`${url}: ${res.statusCode} ${out}`))));
    });
    req.on('error', reject);
    req.end(text);
  });
}

interface Paced {
  ms: number[];
  /** The registers' latencies alone, where a phase mixes them with refreshes. */
  registerMs?: number[];
  failed: string[];
  wallS: number;
}

/** Starts `count` requests at `perSecond`, each at its time whatever the others do; their latencies. */
async function paced(count: number, perSecond: number, send: (k: number) => Promise<unknown>): Promise<Paced> {
  const ms: number[] = [];
  const failed: string[] = [];
  const t0 = performance.now();
  const all: Promise<void>[] = [];
  for (let k = 0; k < count; k++) {
    const due = t0 + (k * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    all.push((async () => {
      const t = performance.now();
      try {
        await send(k);
        ms.push(performance.now() - t);
      } catch (e) {
        failed.push((e as Error).message.slice(0, 200));
      }
    })());
  }
  await Promise.all(all);
  return { ms, failed, wallS: (performance.now() - t0) / 1000 };
}

/**
 * CPU seconds of PostgreSQL: the postmaster with what its ended backends used
 * (reaped: cutime, cstime), and every backend still running.
 */
function postgresCpuSeconds(postmaster: number): number {
  const ticks = (pid: number, withReaped: boolean) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
      return f[11] + f[12] + (withReaped ? f[13] + f[14] : 0);
    } catch {
      return 0; // ended meanwhile: counted in the postmaster's reaped time
    }
  };
  let total = ticks(postmaster, true);
  for (const tid of readdirSync(`/proc/${postmaster}/task`)) {
    for (const child of readFileSync(`/proc/${postmaster}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean)) total += ticks(Number(child), false);
  }
  return total / 100;
}

/** Rows and bytes (heap, indexes and TOAST) of the tables that hold history, and the whole database. */
async function databaseSize(store: Store): Promise<Record<string, { rows: number; bytes: number }>> {
  const out: Record<string, { rows: number; bytes: number }> = {};
  for (const table of ['cert_records', 'audit_log', 'domain_changes', 'revoked_certificates']) {
    const r = await sql<{ rows: string; bytes: string }>`select (select count(*) from ${sql.table(table)}) as rows, pg_total_relation_size(${table}) as bytes`.execute(store.db);
    out[table] = { rows: Number(r.rows[0].rows), bytes: Number(r.rows[0].bytes) };
  }
  const db = await sql<{ bytes: string }>`select pg_database_size(current_database()) as bytes`.execute(store.db);
  out.database = { rows: NaN, bytes: Number(db.rows[0].bytes) };
  return out;
}

/** Seeds `count` instances of bench.api as registers and a day of refreshes would have left them. */
async function seedInstances(store: Store, count: number): Promise<void> {
  const now = Date.now();
  const at = (ms: number) => new Date(ms).toISOString();
  const serial = (i: number, n: number) => (BigInt(i) * 1_000_003n + BigInt(n)).toString(16).padStart(32, '0');
  for (let start = 0; start < count; start += 1000) {
    await store.db.insertInto('cert_records').values(Array.from({ length: Math.min(1000, count - start) }, (_, k) => {
      const i = start + k;
      const refreshed = now - Math.floor((i / count) * DAY_S * 1000); // spread over the last day
      return {
        provider: PROVIDER, instance_id: `seeded-${i}`, service: 'bench.api', current_serial: serial(i, 2), current_ip: '10.0.0.1', current_time: at(refreshed),
        prev_serial: serial(i, 1), prev_ip: '10.0.0.1', prev_time: at(refreshed - DAY_S * 1000), expiry_time: at(refreshed + 7 * DAY_S * 1000),
        issued_time: at(refreshed - 20 * DAY_S * 1000), hostname: null, client_cert: 0, sia_provider: null,
      };
    })).execute();
  }
}

async function main(): Promise<void> {
  const pg = await startTestPostgres({ durable: true });
  const sim = await startAwsSim({ log: () => {} });
  const dir = mkdtempSync(join(tmpdir(), 'tessera-fleet-'));
  const replicas: Served[] = [];
  const store = await openStore(pg.url);
  try {
    // The first replica migrates and bootstraps; the others start on the same data dir (CA, signing key).
    for (let i = 0; i < 3; i++) {
      replicas.push(await startServe(productionStart(), dir, { adminPassword: ADMIN_PASSWORD, args: ['--db', pg.url, '--aws-sts-endpoint', sim.url, '--server-names', 'localhost'] }));
    }
    const ca = readFileSync(join(dir, 'ca.cert.pem'), 'utf8');
    const [a] = replicas;
    const auth = await a.adminToken();
    for (const [method, path, body] of [
      ['POST', '/domain', { name: 'bench', adminUsers: ['user.admin'] }],
      ['PUT', '/domain/bench/meta/system/account', { account: ACCOUNT }],
      ['PUT', '/domain/bench/service/api', { name: 'bench.api' }],
      ['PUT', '/domain/bench/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
    ] as const) {
      const r = await a.call(method, path, body, auth);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    }
    const user = sim.createAccessKey(ACCOUNT, { userName: 'bench' });
    const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: user });
    await iam.send(new CreateRoleCommand({ RoleName: 'bench.api', AssumeRolePolicyDocument: awsTrustPolicy(`arn:aws:iam::${ACCOUNT}:user/bench`) }));
    iam.destroy();
    const sts = new STSClient({ region: 'us-west-2', endpoint: sim.url, credentials: user });
    const assumed = (await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/bench.api`, RoleSessionName: 'bench.api', DurationSeconds: 3600 }))).Credentials!;
    sts.destroy();
    const attestationData = JSON.stringify({ role: 'bench.api', commonName: 'bench.api', access: assumed.AccessKeyId, secret: assumed.SecretAccessKey, token: assumed.SessionToken });

    console.log(`seeding ${INSTANCES} instances into cert_records ...`);
    let t = performance.now();
    await seedInstances(store, INSTANCES);
    console.log(`  ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // CSRs as siad makes them (RSA 2048, its default); keys are reused, CSRs are not. Made before the clock runs.
    const WARM = 150;
    console.log(`preparing ${ROLL + POOL + WARM} CSRs ...`);
    t = performance.now();
    const keys = Array.from({ length: 16 }, () => generateKeyPair('rsa').privateKeyPem);
    const csrFor = (instanceId: string, keyPem: string) => createCsr({
      keyPem, subject: { commonName: 'bench.api', organizationalUnit: PROVIDER }, dnsNames: ['api.bench.aws.athenz.cloud'],
      uris: ['spiffe://bench/sa/api', `athenz://instanceid/${PROVIDER}/${instanceId}`],
    });
    // The register CSRs (10k take minutes to make) are kept in the temp directory for the next run.
    const csrCache = join(tmpdir(), `tessera-fleet-csrs-${ROLL}-${WARM}.json`);
    let registerCsrs: string[];
    if (existsSync(csrCache)) registerCsrs = JSON.parse(readFileSync(csrCache, 'utf8')) as string[];
    else {
      registerCsrs = [];
      for (let i = 0; i < ROLL + WARM; i++) registerCsrs.push(await csrFor(i < ROLL ? `pod-${i}` : `warm-${i - ROLL}`, keys[i % keys.length]));
      writeFileSync(csrCache, JSON.stringify(registerCsrs));
    }
    const rollCsrs = registerCsrs.slice(0, ROLL);
    const warmCsrs = registerCsrs.slice(ROLL);
    const zts = (k: number) => replicas[k % replicas.length].zts;
    const pool = await Promise.all(Array.from({ length: POOL }, async (_, i) => {
      const id = `refresher-${i}`;
      const key = keys[i % keys.length];
      const csr = await csrFor(id, key);
      const cert = await post(`${zts(i)}/instance`, { provider: PROVIDER, domain: 'bench', service: 'api', csr, attestationData }, { ca }, 201);
      return { id, key, csr, cert };
    }));
    console.log(`  ${((performance.now() - t) / 1000).toFixed(1)} s`);

    let refreshes = 0;
    const refresh = async (k: number) => {
      const w = pool[k % pool.length];
      w.cert = await post(`${zts(k)}/instance/${PROVIDER}/bench/api/${w.id}`, { csr: w.csr, attestationData }, { ca, cert: w.cert, key: w.key }, 200);
    };
    const register = (k: number) => post(`${zts(k)}/instance`, { provider: PROVIDER, domain: 'bench', service: 'api', csr: rollCsrs[k], attestationData }, { ca }, 201);
    const postmaster = Number(readFileSync(join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const cpu = () => ({ server: replicas.reduce((s, r) => s + processStats(r.child.pid!).cpuSeconds, 0), pg: postgresCpuSeconds(postmaster) });

    // Warm-up: a freshly started process costs up to twice as much per request until V8 has compiled its hot code.
    // (Registers of instances of their own; the pool's refreshes are 100 apart, so never two of one instance at once.)
    await Promise.all([
      paced(WARM, 15, (k) => post(`${zts(k)}/instance`, { provider: PROVIDER, domain: 'bench', service: 'api', csr: warmCsrs[k], attestationData }, { ca }, 201)),
      paced(WARM, 15, () => refresh(refreshes++)),
    ]);

    const results: { name: string; certs: number; rate: number; run: Paced; cpu: { server: number; pg: number }; grew: Record<string, { rows: number; bytes: number }> }[] = [];
    const phase = async (name: string, certs: number, run: () => Promise<Paced>) => {
      const size0 = await databaseSize(store);
      const c0 = cpu();
      const r = await run();
      const c1 = cpu();
      const size1 = await databaseSize(store);
      const grew = Object.fromEntries(Object.keys(size1).map((k) => [k, { rows: size1[k].rows - size0[k].rows, bytes: size1[k].bytes - size0[k].bytes }]));
      results.push({ name, certs, rate: certs / r.wallS, run: r, cpu: { server: c1.server - c0.server, pg: c1.pg - c0.pg }, grew });
      if (r.failed.length) console.log(`${name}: ${r.failed.length} failed, first: ${r.failed[0]}`);
    };

    // What the replicas and PostgreSQL use with no request at all (each replica polls the change feed and
    // the revoked serials every second): subtracted below for the CPU a certificate adds.
    const idle0 = cpu();
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const idle1 = cpu();
    const idlePerS = { server: (idle1.server - idle0.server) / IDLE_S, pg: (idle1.pg - idle0.pg) / IDLE_S };

    const steadyCount = Math.round(STEADY_S * REFRESH_PER_S);
    await phase(`daily refresh spread (${REFRESH_PER_S.toFixed(2)}/s)`, steadyCount, () => paced(steadyCount, REFRESH_PER_S, () => refresh(refreshes++)));
    const rollRate = ROLL / ROLL_S;
    const rollName = `roll: ${ROLL} registers in ${ROLL_S} s${ROLL_S < ROLL_TARGET_S ? ` (compressed ${(ROLL_TARGET_S / ROLL_S).toFixed(1)}× from ${ROLL_TARGET_S} s)` : ''} + refreshes`;
    const rollRefreshes = Math.round(ROLL_S * REFRESH_PER_S);
    await phase(rollName, ROLL + rollRefreshes, async () => {
      const [reg, ref] = await Promise.all([paced(ROLL, rollRate, register), paced(rollRefreshes, REFRESH_PER_S, () => refresh(refreshes++))]);
      return { ms: [...reg.ms, ...ref.ms], registerMs: reg.ms, failed: [...reg.failed, ...ref.failed], wallS: Math.max(reg.wallS, ref.wallS) };
    });

    console.log(`Fleet: 3 replicas (tessera serve from the build, one worker each) on one PostgreSQL (synchronous_commit on), ${INSTANCES} instances seeded;`);
    console.log('requests round-robin over the replicas\' ZTS, a new TLS connection each (as siad), attested with STS (aws-sim), paced at a fixed rate');
    console.log(`idle (no requests, ${IDLE_S} s): the three replicas ${(idlePerS.server * 1000).toFixed(1)} ms CPU/s, PostgreSQL ${(idlePerS.pg * 1000).toFixed(1)} ms CPU/s`);
    const perCert = (used: number, idle: number, r: (typeof results)[number]) => `${((used * 1000) / r.certs).toFixed(2)} (${(((used - idle * r.run.wallS) * 1000) / r.certs).toFixed(2)})`;
    table([
      ['phase', 'certs', 'certs/s', 'p50 ms', 'p99 ms', 'max ms', 'failed', 'server CPU ms/cert (above idle)', 'PostgreSQL CPU ms/cert (above idle)'],
      ...results.map((r) => [
        r.name, String(r.run.ms.length), r.rate.toFixed(1), pct(r.run.ms, 50).toFixed(1), pct(r.run.ms, 99).toFixed(1), Math.max(...r.run.ms).toFixed(1), String(r.run.failed.length),
        perCert(r.cpu.server, idlePerS.server, r), perCert(r.cpu.pg, idlePerS.pg, r),
      ]),
      ...results.filter((r) => r.run.registerMs).map((r) => ['  of which registers', String(r.run.registerMs!.length), '', pct(r.run.registerMs!, 50).toFixed(1), pct(r.run.registerMs!, 99).toFixed(1), Math.max(...r.run.registerMs!).toFixed(1), '', '', '']),
    ]);

    // Growth: a refresh replaces its instance's record; a register adds one, kept 30 days after its last refresh.
    const [steady, roll] = results;
    const perDay = (grew: number, certs: number) => (grew / certs) * INSTANCES;
    const rows: string[][] = [['table', 'refresh phase: rows', 'bytes', 'per day of refreshes (×' + INSTANCES + '): rows', 'MB', 'roll phase: rows', 'MB']];
    for (const k of Object.keys(steady.grew)) {
      rows.push([
        k, Number.isNaN(steady.grew[k].rows) ? '' : String(steady.grew[k].rows), String(steady.grew[k].bytes),
        Number.isNaN(steady.grew[k].rows) ? '' : perDay(steady.grew[k].rows, steady.certs).toFixed(0), (perDay(steady.grew[k].bytes, steady.certs) / 2 ** 20).toFixed(1),
        Number.isNaN(roll.grew[k].rows) ? '' : String(roll.grew[k].rows), (roll.grew[k].bytes / 2 ** 20).toFixed(1),
      ]);
    }
    console.log('Database growth (bytes as PostgreSQL reports them, dead row versions included until vacuum)');
    table(rows);
    const final = await databaseSize(store);
    console.log(`after the run: cert_records ${final.cert_records.rows} rows, ${(final.cert_records.bytes / 2 ** 20).toFixed(1)} MB; database ${(final.database.bytes / 2 ** 20).toFixed(1)} MB; replicas' RSS ${replicas.map((r) => processStats(r.child.pid!).rssMb.toFixed(0)).join(', ')} MB (peak ${replicas.map((r) => processStats(r.child.pid!).peakRssMb.toFixed(0)).join(', ')} MB)`);
  } finally {
    for (const r of replicas) await r.stop();
    await store.close();
    await sim.close();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
