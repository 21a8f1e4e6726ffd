/** Revoked certificate serials (migration 005) on both backends: recording, listing, expiry, revoking a cert record. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../src/open-store.ts';
import {
  deleteExpiredRevocations, listRevocations, recordRevocations, revocationsVersion, revokeCertRecord,
} from '../src/revoked-certificates.ts';
import { startTestPostgres, type TestPostgres } from './support/postgres.ts';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const at = (hours: number) => new Date(NOW.getTime() + hours * 3_600_000).toISOString();

const record = {
  provider: 'athenz.aws.us-west-2', instance_id: 'i-1', service: 'sports.api',
  current_serial: 'aa01', current_ip: '10.0.0.1', current_time: at(-1),
  prev_serial: 'aa00', prev_ip: '10.0.0.1', prev_time: at(-25),
  expiry_time: at(24 * 7), issued_time: at(-48), hostname: null, client_cert: 0, sia_provider: null,
};

async function exercise(store: Store): Promise<void> {
  const { db } = store;
  const v0 = await revocationsVersion(db);
  await recordRevocations(db, [
    { serial: 'bb01', service: 'sports.web', revoked_time: at(-2), reason: 'keyCompromise', expiry_time: at(1) },
    { serial: 'bb02', service: 'sports.web', revoked_time: at(-3), reason: 'keyCompromise', expiry_time: at(-1) },
    { serial: '-1', service: 'sports.web', revoked_time: at(-3), reason: 'keyCompromise', expiry_time: at(1) },
  ]);
  // The same serial again keeps its first revocation.
  await recordRevocations(db, [{ serial: 'bb01', service: 'sports.web', revoked_time: at(0), reason: 'superseded', expiry_time: at(1) }]);
  assert.notEqual(await revocationsVersion(db), v0, 'the version changes with a revocation');
  assert.deepEqual((await listRevocations(db, NOW)).map((r) => [r.serial, r.reason]), [['bb01', 'keyCompromise']], 'expired and "-1" entries are not listed');

  await db.insertInto('cert_records').values(record).execute();
  assert.equal(await revokeCertRecord(db, { provider: record.provider, instanceId: 'i-1', service: 'sports.api' }, 'privilegeWithdrawn', NOW), true);
  assert.equal(await revokeCertRecord(db, { provider: record.provider, instanceId: 'i-1', service: 'sports.api' }, 'privilegeWithdrawn', NOW), false, 'gone');
  assert.equal((await db.selectFrom('cert_records').selectAll().execute()).length, 0);
  const listed = await listRevocations(db, NOW);
  assert.deepEqual(listed.map((r) => r.serial).sort(), ['aa00', 'aa01', 'bb01']);
  assert.ok(listed.filter((r) => r.serial.startsWith('aa')).every((r) => r.reason === 'privilegeWithdrawn' && r.expiry_time === record.expiry_time));

  assert.equal(await deleteExpiredRevocations(db, NOW), 1, 'the expired entry is dropped');
  assert.equal(await deleteExpiredRevocations(db, new Date(at(24 * 8))), 3);
  assert.deepEqual(await listRevocations(db, NOW), []);
}

describe('revoked certificates', () => {
  let pg: TestPostgres | undefined;
  after(async () => pg?.stop());

  test('sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-revoked-'));
    const store = await openStore(join(dir, 'tessera.db'));
    try {
      await exercise(store);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('postgres', async () => {
    pg = await startTestPostgres();
    const store = await openStore(pg.url);
    try {
      await exercise(store);
    } finally {
      await store.close();
    }
  });
});
