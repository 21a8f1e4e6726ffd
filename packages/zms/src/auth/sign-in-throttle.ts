/**
 * Back-off after repeated failed sign-ins, per user and per client address.
 * The first failures are free (typos happen); after that each failure blocks
 * the key for twice as long as the one before, up to a ceiling. Counters live
 * in the store, so every worker and replica agrees, and fade after a quiet hour.
 *
 * Every attempt is counted before its password is checked, in one store
 * transaction that refuses it if either key is blocked: parallel guesses
 * cannot all pass a check made before any of them was recorded. A success
 * then clears the user's count and takes back only its own attempt from the
 * address's, so signing in to one's own account between guesses at others
 * does not reset the spraying counter.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { tooManyRequests } from '@tessera/core/errors';
import type { Database } from '@tessera/store/schema';

export interface SignInThrottleConfig {
  /** Failures per user before the first block. */
  userFreeFailures: number;
  /** Failures per client address (across users: password spraying) before the first block. */
  addressFreeFailures: number;
  baseDelaySeconds: number;
  maxDelaySeconds: number;
  /** A key with no failure for this long starts again from zero. */
  forgetAfterSeconds: number;
}

export const defaultSignInThrottle: SignInThrottleConfig = {
  userFreeFailures: 5,
  addressFreeFailures: 20,
  baseDelaySeconds: 1,
  maxDelaySeconds: 15 * 60,
  forgetAfterSeconds: 3600,
};

export interface ThrottleKeys {
  user: string;
  address: string;
}

const userKey = (k: ThrottleKeys) => `user:${k.user}`;
const addressKey = (k: ThrottleKeys) => `ip:${k.address}`;

/**
 * Counts one attempt on `key` unless it is blocked; sets the block the count
 * earns before the password is known. Returns the count, or the block's end
 * when the attempt was refused (nothing counted).
 */
async function countOn(
  trx: Transaction<Database>,
  key: string,
  free: number,
  now: Date,
  c: SignInThrottleConfig,
): Promise<{ failures: number; blockedUntil: string | null } | { refusedUntil: string }> {
  const at = now.toISOString();
  const forgetBefore = new Date(now.getTime() - c.forgetAfterSeconds * 1000).toISOString();
  // The upsert locks the row (PostgreSQL) or holds the write lock (SQLite's
  // BEGIN IMMEDIATE) until commit, so a parallel attempt sees the block set below.
  const row = await trx
    .insertInto('sign_in_failures')
    .values({ key, failures: 1, last_failure: at, blocked_until: null })
    .onConflict((oc) =>
      oc
        .column('key')
        .doUpdateSet({
          failures: sql<number>`case when sign_in_failures.last_failure < ${forgetBefore} then 1 else sign_in_failures.failures + 1 end`,
          last_failure: at,
        })
        .where((eb) => eb.or([eb('sign_in_failures.blocked_until', 'is', null), eb('sign_in_failures.blocked_until', '<=', at)])),
    )
    .returning('failures')
    .executeTakeFirst();
  if (!row) {
    const blocked = await trx.selectFrom('sign_in_failures').select('blocked_until').where('key', '=', key).executeTakeFirstOrThrow();
    return { refusedUntil: blocked.blocked_until! };
  }
  const failures = Number(row.failures);
  const blockedUntil = failures >= free ? new Date(now.getTime() + Math.min(c.baseDelaySeconds * 2 ** (failures - free), c.maxDelaySeconds) * 1000).toISOString() : null;
  await trx.updateTable('sign_in_failures').set({ blocked_until: blockedUntil }).where('key', '=', key).execute();
  return { failures, blockedUntil };
}

/**
 * Counts an attempt on the user and the address before its password is
 * checked, or throws a 429 with Retry-After (counting nothing) while either
 * is blocked. Returns the user's count including this attempt, and the block
 * it earns should the password be wrong.
 */
export async function countAttempt(
  db: Kysely<Database>,
  k: ThrottleKeys,
  now: Date,
  c: SignInThrottleConfig,
): Promise<{ failures: number; blockedUntil: string | null }> {
  const outcome = await db.transaction().execute(async (trx) => {
    const user = await countOn(trx, userKey(k), c.userFreeFailures, now, c);
    if ('refusedUntil' in user) return user;
    const address = await countOn(trx, addressKey(k), c.addressFreeFailures, now, c);
    // Rolls back the user's count: a refused attempt counts on neither key.
    if ('refusedUntil' in address) throw new Refused(address.refusedUntil);
    return user;
  }).catch((e: unknown) => {
    if (e instanceof Refused) return { refusedUntil: e.refusedUntil };
    throw e;
  });
  if ('refusedUntil' in outcome) {
    const seconds = Math.max(1, Math.ceil((Date.parse(outcome.refusedUntil) - now.getTime()) / 1000));
    throw tooManyRequests(`Too many failed sign-ins for ${k.user} or from ${k.address}: try again in ${seconds} seconds`, seconds);
  }
  return outcome;
}

class Refused extends Error {
  constructor(readonly refusedUntil: string) {
    super('refused');
  }
}

/**
 * The attempt counted by countAttempt had the right password: the user's
 * count is cleared; the address's loses this one attempt only (and its block,
 * if this attempt was what set it), so guesses at other users still count.
 */
export async function countSuccess(db: Kysely<Database>, k: ThrottleKeys, c: SignInThrottleConfig): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('sign_in_failures').where('key', '=', userKey(k)).execute();
    await trx
      .updateTable('sign_in_failures')
      .set({
        failures: sql<number>`failures - 1`,
        blocked_until: sql<string | null>`case when failures - 1 < ${c.addressFreeFailures} then null else blocked_until end`,
      })
      .where('key', '=', addressKey(k))
      .where('failures', '>', 0)
      .execute();
  });
}
