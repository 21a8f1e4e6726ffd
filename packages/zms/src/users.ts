/** Users who log in with a password (Tessera's user authority). */
import { badRequest } from '@tessera/core/errors';
import { validName } from '@tessera/core/names';
import type { Kysely } from 'kysely';
import type { Database } from '@tessera/store/schema';
import { hashPassword, verifyPassword } from './auth/passwords.ts';

export const MIN_PASSWORD_LENGTH = 8;

export async function setPassword(db: Kysely<Database>, user: string, password: unknown, now: Date): Promise<void> {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH) {
    throw badRequest(`password must be a string of at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  const hash = await hashPassword(password);
  const at = now.toISOString();
  await db
    .insertInto('users')
    .values({ name: user, password_hash: hash, created: at, modified: at, tokens_not_before: null })
    // A new password revokes every token issued for the old one.
    .onConflict((oc) => oc.column('name').doUpdateSet({ password_hash: hash, modified: at, tokens_not_before: at }))
    .execute();
}

/** `jane` or `user.jane` → `user.jane` (lower case). */
export function userPrincipal(userDomain: string, name: string): string {
  return name.includes('.') ? name.toLowerCase() : `${userDomain}.${name.toLowerCase()}`;
}

/**
 * Whether the password is the user's, and when the user's tokens start to
 * count (the last password change). Callers must not say which part was wrong.
 */
export async function checkPassword(
  db: Kysely<Database>,
  principal: string,
  password: string,
): Promise<{ ok: boolean; tokensNotBefore?: Date }> {
  const row = await db.selectFrom('users').select(['password_hash', 'tokens_not_before']).where('name', '=', principal).executeTakeFirst();
  // Hash even for unknown users so the timing does not reveal which names exist.
  const ok = await verifyPassword(password, row?.password_hash ?? 'scrypt$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
  if (!row || !ok) return { ok: false };
  return { ok: true, ...(row.tokens_not_before ? { tokensNotBefore: new Date(row.tokens_not_before) } : {}) };
}

export function validUserName(userDomain: string, name: string): string {
  const principal = validName('service', 'user name', name.includes('.') ? name : `${userDomain}.${name}`);
  if (!principal.startsWith(`${userDomain}.`) || principal.split('.').length !== 2) {
    throw badRequest(`user names look like ${userDomain}.<name>, got ${name}`);
  }
  return principal;
}
