/**
 * A PostgreSQL outage under load: 10 clients keep adding role members while
 * PostgreSQL is killed (`pg_ctl -m immediate stop`) and started again. The
 * server must stay up, answer 503 "database unavailable" meanwhile, answer 2xx
 * again once PostgreSQL is back (waited on, with a deadline), and keep every write it
 * acknowledged, each whole (member, domain modified time and audit record).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startTestPostgres, type TestPostgres } from '@tessera/store/test/support/postgres';
import { startServeProcess, type ServeProcess } from './support/serve-process.ts';
import { waitFor } from './support/wait-for.ts';

const CLIENTS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let db: TestPostgres;
let dir: string;
let server: ServeProcess;

before(async () => {
  db = await startTestPostgres({ durable: true });
  dir = mkdtempSync(join(tmpdir(), 'tessera-faults-'));
  server = await startServeProcess(dir, ['--db', db.url]);
});
after(async () => {
  await server?.stop();
  await db?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  member: string;
  /** When the request was sent and when its answer came. */
  sent: number;
  at: number;
  status: number;
  message: string;
}

test('a PostgreSQL outage under concurrent writes: 503s, no crash, recovery, nothing lost or half-written', async () => {
  const zms = await server.admin();
  assert.equal((await zms('POST', '/domain', { name: 'faults', adminUsers: ['user.admin'] })).status, 200);
  assert.equal((await zms('PUT', '/domain/faults/role/writers', { name: 'faults:role.writers', roleMembers: [] })).status, 204);

  const outcomes: Outcome[] = [];
  let writing = true;
  const writer = async (c: number) => {
    for (let n = 0; writing; n++) {
      const member = `user.c${c}-${n}`;
      const sent = Date.now();
      const res = await zms('PUT', `/domain/faults/role/writers/member/${member}`, { memberName: member });
      outcomes.push({ member, sent, at: Date.now(), status: res.status, message: res.body?.message ?? res.text });
      if (res.status === 503) await sleep(50); // as a client honouring Retry-After would, but quicker
    }
  };
  const writers = Array.from({ length: CLIENTS }, (_, c) => writer(c));
  const state = () => `${outcomes.length} answers, last: ${JSON.stringify(outcomes.slice(-3))}; server output:\n${server.output()}`;
  const acknowledgedSince = (at: number) => outcomes.filter((o) => o.at > at && o.status < 300).length;

  // Each step waits on what the clients saw, with a deadline: writes acknowledged, then refused, then acknowledged again.
  await waitFor('writes acknowledged before the outage', () => acknowledgedSince(0) >= 20, { timeoutMs: 30_000, state });
  await db.crash();
  const crashAt = Date.now();
  await waitFor('503s from every client during the outage', () => new Set(outcomes.filter((o) => o.sent > crashAt && o.status === 503).map((o) => o.member.split('-')[0])).size === CLIENTS, { timeoutMs: 30_000, state });
  const outageEnd = Date.now();
  await db.start();
  const backAt = Date.now();
  await waitFor('writes acknowledged again after PostgreSQL is back', () => acknowledgedSince(backAt) >= CLIENTS, { timeoutMs: 30_000, state });
  writing = false;
  await Promise.all(writers);

  assert.ok(server.alive(), `the server kept running; its output:\n${server.output()}`);

  // Sent once PostgreSQL was down and answered before it was started again.
  const during = outcomes.filter((o) => o.sent > crashAt && o.at < outageEnd);
  assert.ok(during.length > 0, 'requests were answered during the outage');
  for (const o of during) {
    assert.equal(o.status, 503, `${o.member}: ${o.status} ${o.message}`);
    assert.match(o.message, /database unavailable/);
  }
  for (const o of outcomes) {
    assert.ok(o.status === 204 || o.status === 503, `only 204 or 503, got ${o.status} ${o.message}`);
  }

  const firstAfter = outcomes.filter((o) => o.at > backAt && o.status === 204).sort((a, b) => a.at - b.at)[0];

  // Straight from PostgreSQL: every acknowledged write is there, each with its audit record; nothing half-written.
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const members = new Set(
      (await client.query<{ m: string }>("SELECT member_name AS m FROM role_members WHERE domain = 'faults' AND role = 'writers'")).rows.map((r) => r.m),
    );
    const audited = new Set(
      (await client.query<{ d: string }>("SELECT details AS d FROM audit_log WHERE domain = 'faults' AND api = 'putMembership'")).rows.map(
        (r) => (JSON.parse(r.d) as { member: string }).member,
      ),
    );
    const acknowledged = outcomes.filter((o) => o.status === 204).map((o) => o.member);
    assert.ok(acknowledged.length > 20, `enough writes were acknowledged (${acknowledged.length})`);
    for (const m of acknowledged) assert.ok(members.has(m), `acknowledged member ${m} is stored`);
    assert.deepEqual([...members].sort(), [...audited].sort(), 'every stored member has its audit record and no audit record lacks its member');
    const { rows } = await client.query<{ modified: string; last: string }>(
      "SELECT d.modified, (SELECT max(created) FROM audit_log WHERE domain = 'faults') AS last FROM domains d WHERE name = 'faults'",
    );
    assert.equal(rows[0].modified, rows[0].last, "the domain's modified time is its last audited write");
  } finally {
    await client.end();
  }

  // And the server reads its own writes again through the API.
  const role = await zms('GET', '/domain/faults/role/writers');
  assert.equal(role.status, 200);
  const listed = (role.body as { roleMembers: { memberName: string }[] }).roleMembers.map((m) => m.memberName);
  assert.ok(listed.includes(firstAfter.member));
});
