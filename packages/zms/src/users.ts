/** Users who log in with a password (Tessera's user authority). */
import { badRequest, forbidden } from '@tessera/core/errors';
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
    .values({ name: user, password_hash: hash, created: at, modified: at })
    .onConflict((oc) => oc.column('name').doUpdateSet({ password_hash: hash, modified: at }))
    .execute();
}

/** The principal for a user name and password, or undefined: callers must not say which part was wrong. */
export async function checkPassword(db: Kysely<Database>, userDomain: string, name: string, password: string): Promise<string | undefined> {
  const principal = name.includes('.') ? name.toLowerCase() : `${userDomain}.${name.toLowerCase()}`;
  const row = await db.selectFrom('users').select('password_hash').where('name', '=', principal).executeTakeFirst();
  // Hash even for unknown users so the timing does not reveal which names exist.
  const ok = await verifyPassword(password, row?.password_hash ?? 'scrypt$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
  return row && ok ? principal : undefined;
}

export function validUserName(userDomain: string, name: string, caller: string, callerIsSystemAdmin: boolean): string {
  const principal = validName('service', 'user name', name.includes('.') ? name : `${userDomain}.${name}`);
  if (!principal.startsWith(`${userDomain}.`) || principal.split('.').length !== 2) {
    throw badRequest(`user names look like ${userDomain}.<name>, got ${name}`);
  }
  if (principal !== caller && !callerIsSystemAdmin) {
    throw forbidden('setUserPassword: only system administrators may set another user\'s password');
  }
  return principal;
}
