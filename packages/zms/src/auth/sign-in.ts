/**
 * Password sign-in for `GET /user/{name}/token` and the UI's `POST /session`:
 * throttled per user and per client address (each attempt counted before its
 * password is checked), every failure in the user domain's audit history. (The server's
 * audit log lines for sign-ins are written per response, in packages/server.)
 */
import { unauthorized } from '@tessera/core/errors';
import type { ZmsContext } from '../context.ts';
import { checkPassword, userPrincipal } from '../users.ts';
import { countAttempt, countSuccess } from './sign-in-throttle.ts';

export interface SignInAttempt {
  user: string;
  password: string;
  clientIp: string;
}

/** The principal and when its tokens start to count; 401 for a wrong name or password, 429 while throttled. */
export async function signIn(ctx: ZmsContext, attempt: SignInAttempt): Promise<{ principal: string; tokensNotBefore?: Date }> {
  // Bounded before it becomes a store key; longer names cannot be users anyway.
  const principal = userPrincipal(ctx.config.userDomain, attempt.user.slice(0, 256));
  const keys = { user: principal, address: attempt.clientIp };
  const now = ctx.now();
  const throttle = ctx.config.signInThrottle;
  const { failures, blockedUntil } = await countAttempt(ctx.db, keys, now, throttle);
  const checked = await checkPassword(ctx.db, principal, attempt.password);
  if (!checked.ok) {
    await ctx.db
      .insertInto('audit_log')
      .values({
        domain: ctx.config.userDomain,
        created: now.toISOString(),
        principal,
        api: 'signInFailed',
        details: JSON.stringify({ clientIp: attempt.clientIp, failures, ...(blockedUntil ? { blockedUntil } : {}) }),
        audit_ref: null,
      })
      .execute();
    throw unauthorized('Invalid user name or password');
  }
  await countSuccess(ctx.db, keys, throttle);
  return { principal, ...(checked.tokensNotBefore ? { tokensNotBefore: checked.tokensNotBefore } : {}) };
}
