/**
 * Runs the schema migrations in order. The migration list is explicit (not read
 * from the file system) so that a bundle carries it and the order is reviewable.
 */
import { Migrator, type Kysely, type Migration } from 'kysely';
import type { Dialect } from './dialect.ts';
import * as initial from './migrations/001-initial.ts';
import * as certRecords from './migrations/002-cert-records.ts';
import * as auth from './migrations/003-auth.ts';
import * as instanceEvents from './migrations/004-instance-events.ts';
import * as revokedCertificates from './migrations/005-revoked-certificates.ts';
import * as store006 from './migrations/006-store.ts';
import * as changeFeed from './migrations/007-change-feed.ts';
import * as retention from './migrations/008-retention.ts';
import * as refusalReasons from './migrations/009-refusal-reasons.ts';

export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const withDialect = (m: { up(db: Kysely<unknown>, d: Dialect): Promise<void> }): Migration => ({
    up: (d) => m.up(d, dialect),
  });
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({
        '001-initial': withDialect(initial),
        '002-cert-records': { up: certRecords.up },
        '003-auth': { up: auth.up },
        '004-instance-events': { up: instanceEvents.up },
        '005-revoked-certificates': { up: revokedCertificates.up },
        '006-store': withDialect(store006),
        '007-change-feed': withDialect(changeFeed),
        '008-retention': { up: retention.up },
        '009-refusal-reasons': { up: refusalReasons.up },
      }),
    },
  });
  // Nothing to do (every start after the first, on every replica): skip the migrator's lock,
  // a session-level advisory lock that a transaction pooler (pgbouncer) does not keep on one connection.
  const pending = (await migrator.getMigrations()).filter((m) => m.executedAt === undefined);
  if (pending.length === 0) return;
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${(error as Error).message}`);
  }
}
