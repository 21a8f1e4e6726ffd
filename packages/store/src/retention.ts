/**
 * Keeps the stored history bounded: each server deletes, on a schedule, what
 * is past its retention (docs/store.md, "Retention"). Every delete is by an
 * indexed time, so a run costs what it removes; replicas running it at the
 * same time delete the same rows, which is harmless.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { deleteExpiredRevocations } from './revoked-certificates.ts';

const DAY_MS = 86_400_000;

export interface Retention {
  /** Certificate records of instances that have not registered or refreshed for this long. */
  certRecordsMs: number;
  /** Audit rows (ZMS changes, takeovers, failed sign-ins). */
  auditMs: number;
}

/**
 * The change feed's entries: a reader further behind than this does a full
 * pass instead (its poll failed for longer than the full-pass interval, 10 minutes).
 */
export const CHANGE_LOG_RETENTION_MS = DAY_MS;
/** Failed sign-in counters not touched for a day are forgotten anyway (the throttle forgets after an hour). */
const SIGN_IN_FAILURES_RETENTION_MS = DAY_MS;

export interface Pruned {
  certRecords: number;
  revokedCertificates: number;
  auditRows: number;
  changes: number;
  revokedTokens: number;
  signInFailures: number;
}

/** Deletes what is past its retention at `now`; returns how many rows of each. */
export async function pruneHistory(db: Kysely<Database>, now: Date, retention: Retention): Promise<Pruned> {
  const before = (ms: number) => new Date(now.getTime() - ms).toISOString();
  const count = (r: { numDeletedRows: bigint }) => Number(r.numDeletedRows);
  const certRecords = count(await db.deleteFrom('cert_records').where('current_time', '<', before(retention.certRecordsMs)).executeTakeFirst());
  // A CRL need not list a certificate once it has expired.
  const revokedCertificates = await deleteExpiredRevocations(db, now);
  const auditRows = count(await db.deleteFrom('audit_log').where('created', '<', before(retention.auditMs)).executeTakeFirst());
  const changes = count(await db.deleteFrom('domain_changes').where('at', '<', before(CHANGE_LOG_RETENTION_MS)).executeTakeFirst());
  const revokedTokens = count(await db.deleteFrom('revoked_tokens').where('expires', '<', now.toISOString()).executeTakeFirst());
  const signInFailures = count(
    await db
      .deleteFrom('sign_in_failures')
      .where('last_failure', '<', before(SIGN_IN_FAILURES_RETENTION_MS))
      .where((eb) => eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '<', now.toISOString())]))
      .executeTakeFirst(),
  );
  return { certRecords, revokedCertificates, auditRows, changes, revokedTokens, signInFailures };
}
