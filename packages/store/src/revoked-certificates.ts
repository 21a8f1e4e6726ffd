/**
 * Revoked certificate serials, the input of ZTS's CRL. Every path that
 * revokes an instance (ZMS/UI revoke, ZTS DELETE /instance, replay
 * detection on refresh) records the serials here, in the same store, so every
 * replica's CRL lists every revocation.
 */
import type { Kysely } from 'kysely';
import type { CertRecordsTable, Database, RevokedCertificatesTable } from './schema.ts';

export type RevokedCertificate = RevokedCertificatesTable;

/** The serial a cert record uses for "no valid certificate" (a revoked instance). */
const NO_SERIAL = '-1';

/** Records serials as revoked; a serial already listed keeps its first revocation. */
export async function recordRevocations(db: Kysely<Database>, rows: RevokedCertificate[]): Promise<void> {
  const fresh = rows.filter((r) => r.serial && r.serial !== NO_SERIAL);
  if (fresh.length === 0) return;
  await db
    .insertInto('revoked_certificates')
    .values(fresh)
    .onConflict((oc) => oc.column('serial').doNothing())
    .execute();
}

/**
 * The current and previous certificate of a record as revoked. The record
 * keeps only the current certificate's expiry; the previous one was issued
 * earlier with the same provider's lifetime, so it expires no later.
 */
export function recordSerials(record: CertRecordsTable, reason: string, now: Date): RevokedCertificate[] {
  const base = { service: record.service, revoked_time: now.toISOString(), reason, expiry_time: record.expiry_time };
  return [record.current_serial, record.prev_serial].filter((s) => s !== NO_SERIAL).map((serial) => ({ ...base, serial }));
}

/**
 * Deletes an instance's cert record and revokes its certificates, in one
 * transaction: the instance can neither refresh nor keep using what it has.
 * False when there was no such record.
 */
export async function revokeCertRecord(
  db: Kysely<Database>,
  k: { provider: string; instanceId: string; service: string },
  reason: string,
  now: Date,
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const record = await tx
      .selectFrom('cert_records')
      .selectAll()
      .where('provider', '=', k.provider)
      .where('instance_id', '=', k.instanceId)
      .where('service', '=', k.service)
      .executeTakeFirst();
    if (!record) return false;
    await tx
      .deleteFrom('cert_records')
      .where('provider', '=', k.provider)
      .where('instance_id', '=', k.instanceId)
      .where('service', '=', k.service)
      .execute();
    await recordRevocations(tx, recordSerials(record, reason, now));
    return true;
  });
}

/** Revocations of certificates that have not expired yet, oldest first. */
export async function listRevocations(db: Kysely<Database>, now: Date): Promise<RevokedCertificate[]> {
  return db
    .selectFrom('revoked_certificates')
    .selectAll()
    .where('expiry_time', '>', now.toISOString())
    .orderBy('revoked_time')
    .orderBy('serial')
    .execute();
}

/** A cheap fingerprint of the list: it changes whenever a revocation is added or dropped. */
export async function revocationsVersion(db: Kysely<Database>): Promise<string> {
  const row = await db
    .selectFrom('revoked_certificates')
    .select((eb) => [eb.fn.countAll<string | number>().as('n'), eb.fn.max('revoked_time').as('latest')])
    .executeTakeFirst();
  return `${row?.n ?? 0}/${row?.latest ?? ''}`;
}

/** Drops entries whose certificate has expired. */
export async function deleteExpiredRevocations(db: Kysely<Database>, now: Date): Promise<number> {
  const res = await db.deleteFrom('revoked_certificates').where('expiry_time', '<=', now.toISOString()).executeTakeFirst();
  return Number(res.numDeletedRows);
}
