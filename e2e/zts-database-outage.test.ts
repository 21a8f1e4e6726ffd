/**
 * ZTS register and refresh while PostgreSQL is down (`pg_ctl -m immediate
 * stop`): each is a 503 that says the database is unavailable, nothing is
 * half-written, and once PostgreSQL is back the old certificate refreshes and
 * the refused register goes through.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startTestPostgres, type TestPostgres } from '@tessera/store/test/support/postgres';
import { waitFor } from '@tessera/server/test/support/wait-for';
import { attestation, PROVIDER, refused, startBench, type Bench } from './attack/support.ts';

let db: TestPostgres;
let b: Bench;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-zts-outage-'));
  // durable: a commit is in the WAL before it is acknowledged, so it survives the crash.
  db = await startTestPostgres({ durable: true });
  b = await startBench(dir, { flags: { db: db.url } });
});
after(async () => {
  await b?.close();
  await db?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const serialOf = (pem: string) => BigInt(`0x${new X509Certificate(pem).serialNumber}`);

/** The instance's certificate record, straight from PostgreSQL. */
async function record(instanceId: string): Promise<{ current: bigint; prev: bigint } | undefined> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ current_serial: string; prev_serial: string }>(
      'SELECT current_serial, prev_serial FROM cert_records WHERE provider = $1 AND instance_id = $2', [PROVIDER, instanceId]);
    return rows[0] && { current: BigInt(`0x${rows[0].current_serial}`), prev: BigInt(`0x${rows[0].prev_serial}`) };
  } finally {
    await client.end();
  }
}

test('PostgreSQL down: register and refresh are 503, nothing half-written; afterwards the old certificate refreshes and the register works', async () => {
  const api = await b.registered();
  const issued = serialOf(api.id.cert);
  assert.deepEqual(await record(api.instanceId), { current: issued, prev: issued });

  // A new task's register, made ready before the outage (its AWS credentials come from aws-sim, not the database).
  const { creds, taskId } = await b.fargate();
  const { csr } = await b.serviceCsr(taskId);
  const register = () => b.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds) });
  const refresh = async () => {
    const { csr: again } = await b.serviceCsr(api.instanceId, { keyPem: api.id.key });
    return b.refresh({ instanceId: api.instanceId }, { csr: again, attestationData: attestation('sports.api', api.creds) }, api.id);
  };

  await db.crash();
  refused(await register(), 503, /database unavailable/);
  refused(await refresh(), 503, /database unavailable/);
  await db.start();

  // Back: the old certificate refreshes (the first tries may meet the pool reconnecting: 503 again, nothing written).
  const refreshed = await waitFor('a refresh with the old certificate to succeed', async () => {
    const r = await refresh();
    if (r.status !== 503) return r;
  }, { timeoutMs: 30_000, intervalMs: 200 });
  assert.equal(refreshed.status, 200, refreshed.text);
  // Nothing of the refused refresh was kept: the record goes from the first certificate straight to this one.
  assert.deepEqual(await record(api.instanceId), { current: serialOf(refreshed.body.x509Certificate), prev: issued });
  // Nor of the refused register: no record until it is sent again.
  assert.equal(await record(taskId), undefined, 'the refused register left no record');
  const registered = await register();
  assert.equal(registered.status, 201, registered.text);
  assert.equal((await record(taskId))?.current, serialOf(registered.body.x509Certificate));
});
