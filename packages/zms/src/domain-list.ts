/** `GET /domain`: names, filtered by prefix, depth, AWS account, or member (of any role, or of the role `role`). */
import { badRequest } from '@tessera/core/errors';
import type { ZmsContext } from './context.ts';
import { accountSet } from './aws-account.ts';

export interface DomainListQuery {
  prefix?: string;
  depth?: string;
  account?: string;
  member?: string;
  /** With `member`: only this role counts (the Athenz UI lists the user's admin domains with role=admin). */
  role?: string;
  limit?: string;
  skip?: string;
}

export function listDomains(ctx: ZmsContext, q: DomainListQuery): { names: string[]; next?: string } {
  let names = ctx.snapshots.names();
  // Only the first look-up kind is honoured, as in Athenz.
  if (q.account) {
    names = names.filter((n) => accountSet(ctx.snapshots.get(n)?.account).has(q.account!));
  } else if (q.member) {
    const member = q.member.toLowerCase();
    const role = q.role ? (n: string) => `${n}:role.${q.role!.toLowerCase()}` : undefined;
    names = names.filter((n) => ctx.snapshots.get(n)?.roles.some((r) => (!role || r.name === role(n)) && r.roleMembers?.some((m) => m.memberName === member)));
  }
  if (q.prefix) names = names.filter((n) => n.startsWith(q.prefix!.toLowerCase()));
  if (q.depth !== undefined) {
    const depth = Number(q.depth);
    if (!Number.isInteger(depth) || depth < 0) throw badRequest('depth must be a whole number of 0 or more');
    names = names.filter((n) => n.split('.').length - 1 <= depth);
  }
  const skip = q.skip ? names.indexOf(q.skip) + 1 : 0;
  names = names.slice(skip);
  const limit = q.limit ? Number(q.limit) : 0;
  if (q.limit && (!Number.isInteger(limit) || limit <= 0)) throw badRequest('limit must be a positive whole number');
  if (limit && names.length > limit) return { names: names.slice(0, limit), next: names[limit - 1] };
  return { names };
}
