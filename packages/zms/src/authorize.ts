/**
 * Authorization of ZMS writes: the Athenz access check, evaluated on the
 * in-memory domain snapshots.
 */
import { evaluateAccess } from '@tessera/core/authz/evaluate-access';
import { forbidden } from '@tessera/core/errors';
import type { ZmsContext } from './context.ts';
import { SYSTEM_DOMAIN } from './config.ts';

export function isAllowed(ctx: ZmsContext, principal: string, action: string, resource: string): boolean {
  return evaluateAccess({ principal, action, resource }, (d) => ctx.snapshots.get(d), ctx.now()).granted;
}

/** Throws 403 naming the missing permission. */
export function authorize(ctx: ZmsContext, api: string, principal: string, action: string, resource: string): void {
  if (!isAllowed(ctx, principal, action, resource)) {
    throw forbidden(`${api}: principal ${principal} is not authorized: needs ${action} on ${resource}`);
  }
}

/** System administrators are users with `create` on `sys.auth:domain`. */
export function isSystemAdmin(ctx: ZmsContext, principal: string): boolean {
  return (
    principal.startsWith(`${ctx.config.userDomain}.`) &&
    isAllowed(ctx, principal, 'create', `${SYSTEM_DOMAIN}:domain`)
  );
}
