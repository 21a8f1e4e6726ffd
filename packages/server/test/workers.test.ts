/**
 * `tessera serve --workers 2` on SQLite and on PostgreSQL: two processes share
 * the ports and the store. Under concurrent ZMS writes and ZTS registers (some instances
 * registered twice at once, through whichever worker takes the connection),
 * nothing acknowledged is lost and nothing is stored twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { startTestPostgres, type TestPostgres } from '@tessera/store/test/support/postgres';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { fromContainerMetadata } from '@aws-sdk/credential-providers';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy, serviceTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { startServeProcess, type ServeProcess } from './support/serve-process.ts';
import { httpsJson } from '@tessera/core/https-client';
import { assumeRole, attestation, serviceCsr, type AwsCreds } from './support/workload.ts';
import { waitFor } from './support/wait-for.ts';

const ACCOUNT = '123456789012';
const PROVIDER = 'athenz.aws.us-west-2';
const INSTANCES = 20;
const MEMBER_CLIENTS = 10;
const MEMBERS_EACH = 15;

/** Reads the store the workers share, as SQL rows. */
type Query = <T>(sql: string) => Promise<T[]>;

let sim: AwsSim;
let dir: string;
let server: ServeProcess;
let db: TestPostgres | undefined;
let query: Query;
let closeQuery: () => unknown;
let logFile: string;

/** The worker processes of the primary, by pid. */
function workers(server: ServeProcess): number[] {
  const pid = server.child.pid!;
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/**
 * The pids of the processes that logged `cert.issued` (JSON lines carry `pid`), from line `from` of
 * the server's log on: the server's own record of which worker issued each certificate.
 */
function issuers(from = 0): number[] {
  return readFileSync(logFile, 'utf8').split('\n').slice(from)
    .filter((l) => l.startsWith('{') && l.endsWith('}'))
    .map((l) => JSON.parse(l) as { event?: string; pid: number })
    .filter((l) => l.event === 'cert.issued')
    .map((l) => l.pid);
}

const logLength = () => readFileSync(logFile, 'utf8').split('\n').length - 1;

async function fargateCreds(sim: AwsSim): Promise<AwsCreds> {
  const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, region: 'us-west-2', cluster: 'prod' });
  const saved = { ...process.env };
  Object.assign(process.env, task.env);
  try {
    const base = await fromContainerMetadata()();
    return await assumeRole(sim.url, 'us-west-2', base, `arn:aws:iam::${ACCOUNT}:role/sports.api`, 'sports.api');
  } finally {
    for (const k of Object.keys(task.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`two workers on ${backend}`, () => {
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tessera-workers-'));
      sim = await startAwsSim();
      db = backend === 'postgres' ? await startTestPostgres() : undefined;
      logFile = join(dir, 'serve.log');
      server = await startServeProcess(join(dir, 'data'), [
        '--workers', '2', '--aws-sts-endpoint', sim.url, ...(db ? ['--db', db.url] : []), '--log-level', 'info', '--log-file', logFile,
      ]);
      if (db) {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        query = async <T>(sql: string) => (await client.query(sql)).rows as T[];
        closeQuery = () => client.end();
      } else {
        const file = new SQLite(join(dir, 'data', 'tessera.db'), { readonly: true });
        query = async <T>(sql: string) => file.prepare(sql).all() as T[];
        closeQuery = () => file.close();
      }
    });
    after(async () => {
      await closeQuery?.();
      await server?.stop();
      await sim?.close();
      await db?.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    test('concurrent writes and registers: nothing lost, nothing stored twice', () => loadAndCheck());
    test('a worker that dies is replaced; the server keeps answering', async () => {
      const [victim, survivor] = workers(server);
      process.kill(victim, 'SIGKILL');
      let now = workers(server);
      for (let i = 0; i < 300 && !(now.length === 2 && !now.includes(victim)); i++) {
        await new Promise((r) => setTimeout(r, 100));
        now = workers(server);
      }
      assert.equal(now.length, 2, 'two workers again');
      assert.ok(now.includes(survivor) && !now.includes(victim), 'the dead one was replaced, the other left alone');
      assert.match(server.output(), new RegExp(`worker ${victim} exited \\(SIGKILL\\); starting another`));
      const zms = await server.admin();
      for (let i = 0; i < 4; i++) assert.equal((await zms('GET', '/domain/sports/role/writers')).status, 200);
    });
  });
}

async function loadAndCheck(): Promise<void> {
  const pids = workers(server);
  assert.equal(pids.length, 2, 'two worker processes run');
  const zms = await server.admin();
  for (const [m, p, b] of [
    ['POST', '/domain', { name: 'sports', adminUsers: ['user.admin'] }],
    ['PUT', '/domain/sports/meta/system/account', { account: ACCOUNT }],
    ['PUT', '/domain/sports/service/api', { name: 'sports.api' }],
    ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
    ['PUT', '/domain/sports/role/writers', { name: 'sports:role.writers', roleMembers: [] }],
  ] as [string, string, unknown][]) {
    const r = await zms(m, p, b);
    assert.ok(r.status < 300, `${m} ${p}: ${r.text}`);
  }
  const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.createAccessKey(ACCOUNT, { userName: 'admin' }) });
  await iam.send(new CreateRoleCommand({ RoleName: 'sports.api-service', AssumeRolePolicyDocument: serviceTrustPolicy('ecs-tasks.amazonaws.com') }));
  await iam.send(new CreateRoleCommand({ RoleName: 'sports.api', AssumeRolePolicyDocument: awsTrustPolicy([`arn:aws:iam::${ACCOUNT}:role/sports.api-service`]) }));
  iam.destroy();
  const creds = await fargateCreds(sim);
  const { privateKeyPem } = generateKeyPair('ec');
  /** A register of sports.api; `fresh`: on a new connection, so that either worker may take it. */
  const register = async (instanceId: string, fresh = false) => {
    const { csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId, keyPem: privateKeyPem });
    return httpsJson<{ x509Certificate: string; message: string }>({
      method: 'POST', url: `${server.ztsUrl}/instance`, ca: server.ca, headers: fresh ? { connection: 'close' } : {},
      body: { provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) },
    });
  };
  /**
   * Waits until each worker has issued a certificate (logged from line `from` on), sending registers on
   * new connections meanwhile: at most 100, and a deadline. Which worker takes a connection is the
   * kernel's choice; each worker follows the store by polling, so its first registers may be refused.
   */
  const untilEachWorkerIssued = async (what: string, from: number) => {
    let sent = 0;
    await waitFor(`a certificate issued by each worker (${pids.join(', ')}) ${what}`, async () => {
      const seen = new Set(issuers(from));
      if (pids.every((pid) => seen.has(pid))) return true;
      if (sent >= 100) throw new Error(`${sent} registers on new connections, and only ${[...seen].join(', ') || 'no worker'} of ${pids.join(', ')} issued a certificate ${what}`);
      sent++;
      await register(`spread-${from}-${sent}`, true);
      return false;
    }, { timeoutMs: 60_000, intervalMs: 0, state: () => server.output() });
  };
  // Both workers serve registers of the domain as set up.
  await untilEachWorkerIssued('after the set-up', 0);
  const loadFrom = logLength();

  // Each instance registered twice at the same time; members added by 10 clients at once.
  const serials = new Map<string, bigint[]>();
  const registers = Array.from({ length: INSTANCES }, async (_, i) => {
    const id = `task-${i}`;
    for (const res of await Promise.all([register(id), register(id)])) {
      assert.equal(res.status, 201, res.text);
      const serial = BigInt(`0x${new X509Certificate(res.body.x509Certificate).serialNumber}`);
      serials.set(id, [...(serials.get(id) ?? []), serial]);
    }
  });
  const acknowledged: string[] = [];
  const writers = Array.from({ length: MEMBER_CLIENTS }, async (_, c) => {
    for (let n = 0; n < MEMBERS_EACH; n++) {
      const member = `user.w${c}-${n}`;
      const res = await zms('PUT', `/domain/sports/role/writers/member/${member}`, { memberName: member });
      assert.equal(res.status, 204, res.text);
      acknowledged.push(member);
    }
  });
  await Promise.all([...registers, ...writers]);

  // From the server's records: each worker issued certificates of this load (or, if the kernel gave one
  // worker every connection, of registers sent on new connections right after it).
  await untilEachWorkerIssued('since the load began', loadFrom);
  assert.ok(server.alive());

  const records = await query<{ id: string; serial: string }>("SELECT instance_id AS id, current_serial AS serial FROM cert_records WHERE service = 'sports.api' AND instance_id LIKE 'task-%'");
  assert.equal(records.length, INSTANCES, 'one record per instance');
  for (const r of records) {
    assert.ok(serials.get(r.id)?.includes(BigInt(`0x${r.serial}`)), `${r.id}: the record holds one of the certificates issued`);
  }
  const members = await query<{ m: string }>("SELECT member_name AS m FROM role_members WHERE domain = 'sports' AND role = 'writers'");
  assert.deepEqual(members.map((r) => r.m).sort(), [...acknowledged].sort(), 'every acknowledged member, once');
  const audits = await query<{ d: string }>("SELECT details AS d FROM audit_log WHERE domain = 'sports' AND api = 'putMembership'");
  assert.deepEqual(audits.map((r) => (JSON.parse(r.d) as { member: string }).member).sort(), [...acknowledged].sort(), 'one audit record each');

  // Within a poll both workers serve every acknowledged member (each follows the store, not only its own writes).
  const listed = async () => ((await zms('GET', '/domain/sports/role/writers')).body as unknown as { roleMembers: unknown[] }).roleMembers.length;
  for (let i = 0; i < 50 && (await listed()) !== acknowledged.length; i++) await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 6; i++) assert.equal(await listed(), acknowledged.length);
}
