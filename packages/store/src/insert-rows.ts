/**
 * Inserts many rows in as few statements as the stores allow. One multi-row
 * INSERT binds one parameter per column per row, and each store caps that:
 * SQLite at 32,766 variables (SQLITE_MAX_VARIABLE_NUMBER), PostgreSQL at 65,535
 * (its wire protocol counts them in 16 bits). A role of 10,000 members (6
 * columns each) would need 60,000, so rows go in chunks under the lower cap.
 */
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';

/** Parameters per statement: under SQLite's cap, and so under PostgreSQL's. */
export const MAX_PARAMETERS = 32_000;

export async function insertRows<T extends keyof Database & string>(
  db: Kysely<Database> | Transaction<Database>,
  table: T,
  rows: Insertable<Database[T]>[],
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0] as object).length;
  const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / columns));
  for (let i = 0; i < rows.length; i += perStatement) {
    // Kysely's generic insert types do not narrow on a table type parameter.
    await db.insertInto(table).values(rows.slice(i, i + perStatement) as never).execute();
  }
}
