/**
 * Certificate records: for each (provider, instance id, service) the serials
 * of the current and previous certificate. A refresh must present one of
 * them; anything else means the certificate was copied, and the instance is
 * revoked.
 */
import type { Kysely } from 'kysely';
import type { CertRecordsTable, Database } from '@tessera/store/schema';

export type CertRecord = CertRecordsTable;
export const REVOKED = '-1';

type Key = { provider: string; instanceId: string; service: string };

export async function findCertRecord(db: Kysely<Database>, k: Key): Promise<CertRecord | undefined> {
  return db
    .selectFrom('cert_records')
    .selectAll()
    .where('provider', '=', k.provider)
    .where('instance_id', '=', k.instanceId)
    .where('service', '=', k.service)
    .executeTakeFirst();
}

/** Register: a new record, or a fresh start for a known instance (as Athenz's upsert). */
export async function putCertRecord(db: Kysely<Database>, r: CertRecord): Promise<void> {
  const { provider: _p, instance_id: _i, service: _s, ...update } = r;
  await db
    .insertInto('cert_records')
    .values(r)
    .onConflict((oc) => oc.columns(['provider', 'instance_id', 'service']).doUpdateSet(update))
    .execute();
}

export async function updateCertRecord(db: Kysely<Database>, r: CertRecord): Promise<void> {
  const { provider, instance_id, service, ...update } = r;
  await db
    .updateTable('cert_records')
    .set(update)
    .where('provider', '=', provider)
    .where('instance_id', '=', instance_id)
    .where('service', '=', service)
    .execute();
}

export async function deleteCertRecord(db: Kysely<Database>, k: Key): Promise<boolean> {
  const res = await db
    .deleteFrom('cert_records')
    .where('provider', '=', k.provider)
    .where('instance_id', '=', k.instanceId)
    .where('service', '=', k.service)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export async function listCertRecords(db: Kysely<Database>, service: string): Promise<CertRecord[]> {
  return db.selectFrom('cert_records').selectAll().where('service', '=', service).orderBy('current_time', 'desc').execute();
}
