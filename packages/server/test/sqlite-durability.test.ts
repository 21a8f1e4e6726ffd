/**
 * SQLite durability: `kill -9` of the server in the middle of a write burst
 * loses no acknowledged write and leaves none half-written; the server starts
 * again on the same file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { startServeProcess, type ServeProcess } from './support/serve-process.ts';
import { waitFor } from './support/wait-for.ts';

const CLIENTS = 10;

let dir: string;
let server: ServeProcess | undefined;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-durability-'));
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('kill -9 during a write burst: every acknowledged write is there after restart, each whole', async () => {
  server = await startServeProcess(dir);
  let zms = await server.admin();
  assert.equal((await zms('POST', '/domain', { name: 'burst', adminUsers: ['user.admin'] })).status, 200);
  assert.equal((await zms('PUT', '/domain/burst/role/writers', { name: 'burst:role.writers', roleMembers: [] })).status, 204);

  const acknowledged: string[] = [];
  let refused = 0;
  const writer = async (c: number) => {
    for (let n = 0; ; n++) {
      const member = `user.c${c}-${n}`;
      try {
        const res = await zms('PUT', `/domain/burst/role/writers/member/${member}`, { memberName: member });
        if (res.status === 204) acknowledged.push(member);
        else throw new Error(`unexpected ${res.status} ${res.text}`);
      } catch (e) {
        if (/unexpected/.test((e as Error).message)) throw e;
        refused++; // the connection died with the server: not acknowledged
        return;
      }
    }
  };
  let failed: unknown;
  const writers = Array.from({ length: CLIENTS }, (_, c) => writer(c).catch((e) => { failed ??= e; }));
  await waitFor('100 acknowledged writes', () => {
    if (failed) throw failed;
    return acknowledged.length >= 100;
  }, { timeoutMs: 60_000, state: () => `${acknowledged.length} acknowledged; server output:\n${server?.output()}` });
  await server.kill();
  await Promise.all(writers);
  assert.ok(refused > 0, 'requests were in flight when the server died');

  server = await startServeProcess(dir);
  zms = await server.admin();
  const role = await zms('GET', '/domain/burst/role/writers');
  assert.equal(role.status, 200, role.text);
  const listed = new Set((role.body as unknown as { roleMembers: { memberName: string }[] }).roleMembers.map((m) => m.memberName));
  for (const m of acknowledged) assert.ok(listed.has(m), `acknowledged member ${m} survived kill -9`);

  // Straight from the file: every stored member has its audit record, and the other way round.
  const db = new SQLite(join(dir, 'tessera.db'), { readonly: true });
  try {
    const members = db.prepare("SELECT member_name AS m FROM role_members WHERE domain = 'burst' AND role = 'writers'").all() as { m: string }[];
    const audits = db.prepare("SELECT details AS d FROM audit_log WHERE domain = 'burst' AND api = 'putMembership'").all() as { d: string }[];
    assert.deepEqual(
      members.map((r) => r.m).sort(),
      audits.map((r) => (JSON.parse(r.d) as { member: string }).member).sort(),
    );
    assert.deepEqual([...listed].sort(), members.map((r) => r.m).sort(), 'the restarted server serves what the file holds');
  } finally {
    db.close();
  }
});
