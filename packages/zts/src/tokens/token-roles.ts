/**
 * Which roles of a domain a principal gets in a token (Athenz
 * DataStore.getAccessibleRoles), decided by the shared access engine on the
 * domain snapshots: direct membership with expiry and disabled members, and
 * delegated (trust) roles. Also the token lifetime rules of Athenz.
 */
import { isRoleMember } from '@tessera/core/authz/evaluate-access';
import type { DomainData } from '@tessera/core/model';
import { invalidScope } from './oauth-error.ts';
import type { ZtsContext } from '../context.ts';

export function domainOf(ctx: ZtsContext, domain: string): DomainData {
  const data = ctx.snapshots.get(domain);
  if (!data) throw invalidScope(`No such domain: ${domain}`, 404);
  return data;
}

/** Short names of the roles granted, in the domain's order; 403 with what to do when there are none. */
export function grantedRoles(ctx: ZtsContext, data: DomainData, principal: string, requested: string[] | undefined): string[] {
  const prefix = `${data.name}:role.`;
  const lookup = (d: string) => ctx.snapshots.get(d);
  const now = ctx.now();
  const wanted = requested ? new Set(requested) : undefined;
  const granted: string[] = [];
  for (const role of data.roles) {
    const short = role.name.toLowerCase().slice(prefix.length);
    if (wanted && !wanted.has(short)) continue;
    if (isRoleMember(role, principal, now, lookup)) granted.push(short);
  }
  if (granted.length > 0) return granted;
  const missing = requested?.filter((r) => !data.roles.some((x) => x.name.toLowerCase() === `${prefix}${r}`)) ?? [];
  const which = requested ? `the requested role(s) ${requested.join(', ')}` : 'any role';
  const fix = missing.length > 0
    ? `; no such role in ${data.name}: ${missing.join(', ')}`
    : requested
      ? `; a domain admin can run: zms-cli -d ${data.name} add-member ${requested[0]} ${principal}`
      : '';
  throw invalidScope(`principal ${principal} is not included in ${which} in domain ${data.name}${fix}`, 403);
}

/**
 * Athenz's determineTokenTimeout: the requested seconds when given (else the
 * default), at most the server maximum, and at most the domain's
 * tokenExpiryMins.
 */
export function tokenLifetimeSeconds(ctx: ZtsContext, data: DomainData, requestedSeconds: number | undefined): number {
  const c = ctx.config;
  let seconds = requestedSeconds && requestedSeconds > 0 ? requestedSeconds : c.tokenDefaultSeconds;
  seconds = Math.min(seconds, c.tokenMaxSeconds);
  if (data.tokenExpiryMins && data.tokenExpiryMins > 0) seconds = Math.min(seconds, data.tokenExpiryMins * 60);
  return seconds;
}
