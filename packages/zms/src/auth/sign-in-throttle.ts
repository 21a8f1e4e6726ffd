/**
 * Back-off after repeated failed sign-ins, per user and per client address.
 * The first failures are free (typos happen); after that each failure blocks
 * the key for twice as long as the one before, up to a ceiling. A success
 * clears both keys. Counters live in the store, so every replica agrees, and
 * fade after a quiet hour.
 */
import { sql, type Kysely } from 'kysely';
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

const keysOf = (k: ThrottleKeys) => [`user:${k.user}`, `ip:${k.address}`];

/** Throws a 429 with Retry-After while either key is blocked. */
export async function assertNotThrottled(db: Kysely<Database>, k: ThrottleKeys, now: Date): Promise<void> {
  const rows = await db.selectFrom('sign_in_failures').select(['key', 'blocked_until']).where('key', 'in', keysOf(k)).execute();
  const until = Math.max(0, ...rows.map((r) => (r.blocked_until ? Date.parse(r.blocked_until) : 0)));
  if (until > now.getTime()) {
    const seconds = Math.ceil((until - now.getTime()) / 1000);
    throw tooManyRequests(`Too many failed sign-ins for ${k.user} or from ${k.address}: try again in ${seconds} seconds`, seconds);
  }
}

/** Counts a failure on both keys; returns the user's failure count and until when it is now blocked (if it is). */
export async function recordFailure(
  db: Kysely<Database>,
  k: ThrottleKeys,
  now: Date,
  c: SignInThrottleConfig,
): Promise<{ failures: number; blockedUntil?: string }> {
  const at = now.toISOString();
  const forgetBefore = new Date(now.getTime() - c.forgetAfterSeconds * 1000).toISOString();
  let result: { failures: number; blockedUntil?: string } = { failures: 0 };
  for (const key of keysOf(k)) {
    // One statement, so concurrent failures on several replicas are all counted.
    const row = await db
      .insertInto('sign_in_failures')
      .values({ key, failures: 1, last_failure: at, blocked_until: null })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql<number>`case when sign_in_failures.last_failure < ${forgetBefore} then 1 else sign_in_failures.failures + 1 end`,
          last_failure: at,
        }),
      )
      .returning('failures')
      .executeTakeFirstOrThrow();
    const free = key.startsWith('user:') ? c.userFreeFailures : c.addressFreeFailures;
    let blockedUntil: string | undefined;
    if (row.failures >= free) {
      const delay = Math.min(c.baseDelaySeconds * 2 ** (row.failures - free), c.maxDelaySeconds);
      blockedUntil = new Date(now.getTime() + delay * 1000).toISOString();
      await db.updateTable('sign_in_failures').set({ blocked_until: blockedUntil }).where('key', '=', key).execute();
    }
    if (key.startsWith('user:')) result = { failures: row.failures, ...(blockedUntil ? { blockedUntil } : {}) };
  }
  return result;
}

export async function clearFailures(db: Kysely<Database>, k: ThrottleKeys): Promise<void> {
  await db.deleteFrom('sign_in_failures').where('key', 'in', keysOf(k)).execute();
}
