/**
 * Revoked user tokens: a logged-out session's token id until it would have
 * expired, and every token older than the user's last password change.
 * Checked on every request that carries a token, in the store, so a logout on
 * one replica holds on all of them at once.
 */
import type { Kysely } from 'kysely';
import { issuedBefore, type VerifiedToken } from '@tessera/core/principal-token';
import type { Database } from './schema.ts';

export async function revokeToken(db: Kysely<Database>, token: VerifiedToken, now: Date): Promise<void> {
  await db.deleteFrom('revoked_tokens').where('expires', '<', now.toISOString()).execute();
  await db
    .insertInto('revoked_tokens')
    .values({ id: token.id, expires: token.expires.toISOString() })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** True when the token was revoked, or its user no longer exists or changed the password since it was issued. */
export async function isRevoked(db: Kysely<Database>, token: VerifiedToken): Promise<boolean> {
  // One query on every request that carries a token.
  const user = await db
    .selectFrom('users')
    .select((eb) => ['tokens_not_before', eb.exists(eb.selectFrom('revoked_tokens').select('id').where('id', '=', token.id)).as('revoked')])
    .where('name', '=', token.principal)
    .executeTakeFirst();
  // EXISTS is 0 or 1 on SQLite, false or true on PostgreSQL.
  if (!user || user.revoked) return true;
  return user.tokens_not_before !== null && issuedBefore(token.issued, new Date(user.tokens_not_before));
}
