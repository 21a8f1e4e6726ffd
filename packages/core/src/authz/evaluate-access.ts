/**
 * The Athenz access check (ZMS `ZMSImpl.evaluateAccess`, which ZTS mirrors):
 * may principal P perform action A on resource R? Pure: domains come from a
 * lookup and time from `now`, so ZMS, ZTS and tests share one implementation.
 *
 * Groups: Tessera has no groups yet, so `<domain>:group.<g>` role members
 * are skipped and grant nothing (Athenz would expand them after the direct
 * members).
 */
import type { Assertion, DomainData, Policy, Role, RoleMember } from '../model.ts';
import { globMatch } from './glob.ts';

export type DomainLookup = (name: string) => DomainData | undefined;

export interface AccessQuery {
  principal: string;
  action: string;
  resource: string;
  /** Athenz `domain` query parameter: for `assume_role` the domain to evaluate; otherwise limits delegated trust. */
  trustDomain?: string;
}

export type AccessReason = 'allowed' | 'denied-by-assertion' | 'no-match' | 'domain-not-found' | 'domain-disabled';

export interface AccessResult {
  granted: boolean;
  reason: AccessReason;
  /** The evaluated domain ('' when the resource names none), for error messages. */
  domain: string;
  /** The assertion that decided an 'allowed' or 'denied-by-assertion' result, and its policy. */
  policy?: string;
  assertion?: Assertion;
}

const ASSUME_ROLE = 'assume_role';
const USER_DOMAIN_PREFIX = 'user.';

export function evaluateAccess(q: AccessQuery, lookup: DomainLookup, now: Date): AccessResult {
  const principal = q.principal.toLowerCase();
  const action = q.action.toLowerCase();
  const resource = q.resource.toLowerCase();
  const trustDomain = q.trustDomain ? q.trustDomain.toLowerCase() : undefined;

  const domainName = accessDomainName(action, resource, trustDomain);
  if (domainName === null) return { granted: false, reason: 'domain-not-found', domain: '' };

  const domain = lookup(domainName) ?? virtualHomeDomain(domainName, principal, now);
  if (!domain) return { granted: false, reason: 'domain-not-found', domain: domainName };
  if (domain.enabled === false) return { granted: false, reason: 'domain-disabled', domain: domainName };

  const ctx: Ctx = { principal, now: now.getTime(), lookup, trustDomain };
  let allowedBy: { policy: string; assertion: Assertion } | undefined;
  for (const policy of activePolicies(domain)) {
    for (const assertion of policy.assertions ?? []) {
      const deny = assertion.effect === 'DENY';
      // Once allowed, only a DENY can change the answer.
      if (allowedBy && !deny) continue;
      if (!assertionMatches(assertion, action, resource, domain.roles, ctx)) continue;
      if (deny) {
        return { granted: false, reason: 'denied-by-assertion', domain: domainName, policy: policy.name, assertion };
      }
      allowedBy = { policy: policy.name, assertion };
    }
  }
  return allowedBy
    ? { granted: true, reason: 'allowed', domain: domainName, ...allowedBy }
    : { granted: false, reason: 'no-match', domain: domainName };
}

/**
 * Whether the principal is a valid member of the role: a direct member
 * (7.3.1) or, for a delegated role without members, through the trusted
 * domain's `assume_role` assertions (7.3.2).
 */
export function isRoleMember(role: Role, principal: string, now: Date, lookup: DomainLookup): boolean {
  return principalInRole(role, { principal: principal.toLowerCase(), now: now.getTime(), lookup, trustDomain: undefined });
}

/** Short names of the domain's roles the principal is a valid member of (directly or by delegation). */
export function listPrincipalRoles(domain: DomainData, principal: string, now: Date, lookup: DomainLookup): string[] {
  const prefix = `${domain.name.toLowerCase()}:role.`;
  const names: string[] = [];
  for (const role of domain.roles) {
    if (!isRoleMember(role, principal, now, lookup)) continue;
    const full = role.name.toLowerCase();
    names.push(full.startsWith(prefix) ? full.slice(prefix.length) : full);
  }
  return names;
}

interface Ctx {
  principal: string;
  now: number;
  lookup: DomainLookup;
  trustDomain: string | undefined;
}

/**
 * The domain whose policies decide: before the first ':' of the resource,
 * except that `assume_role` with a trust domain is decided by that domain
 * (its resource names a role in another domain). Null when there is none.
 */
function accessDomainName(action: string, resource: string, trustDomain: string | undefined): string | null {
  if (action === ASSUME_ROLE && trustDomain) return trustDomain;
  const i = resource.indexOf(':');
  // Athenz answers 404 "Unable to extract resource domain" for a resource without ':'.
  return i < 0 ? null : resource.slice(0, i);
}

/** Inactive versions of multi-version policies never take part in a decision. */
function activePolicies(domain: DomainData): Policy[] {
  return domain.policies.contents.policies.filter((p) => p.active !== false);
}

function assertionMatches(a: Assertion, action: string, resource: string, roles: Role[], ctx: Ctx): boolean {
  // Case-sensitive assertions keep their case in storage but match lower-cased, as in Athenz.
  if (!globMatch(a.action.toLowerCase(), action)) return false;
  if (!globMatch(a.resource.toLowerCase(), resource)) return false;
  const roleGlob = a.role.toLowerCase();
  return roles.some((role) => globMatch(roleGlob, role.name.toLowerCase()) && principalInRole(role, ctx));
}

function principalInRole(role: Role, ctx: Ctx): boolean {
  // Athenz decides on members whenever the list is present; a stored role
  // may carry an empty list next to `trust`, and a role with a trust has no
  // members by rule, so an empty list falls through to delegation here.
  if (role.roleMembers && role.roleMembers.length > 0) return isValidMember(role.roleMembers, ctx.principal, ctx.now);
  if (!role.trust) return false;
  const trust = role.trust.toLowerCase();
  // The trust domain parameter restricts delegation to that one domain.
  if (ctx.trustDomain !== undefined && ctx.trustDomain !== trust) return false;
  return delegatedTrust(trust, role.name.toLowerCase(), ctx);
}

/**
 * 7.3.1: the first direct entry matching the principal decides, even when a
 * later entry (say a wildcard) would have been valid.
 */
function isValidMember(members: RoleMember[], principal: string, now: number): boolean {
  for (const m of members) {
    const name = m.memberName.toLowerCase();
    if (name.includes(':group.')) continue; // groups: see the module comment
    if (!memberNameMatches(name, principal)) continue;
    return !isDisabled(m) && !isExpired(m, now);
  }
  return false;
}

/** `*`, a prefix ending in `*` (`athenz.aws.*`, `sports.api*`), or the exact name. */
export function memberNameMatches(memberName: string, principal: string): boolean {
  if (memberName === '*') return true;
  if (memberName.endsWith('*')) return principal.startsWith(memberName.slice(0, -1));
  return memberName === principal;
}

const isDisabled = (m: RoleMember): boolean => m.systemDisabled !== undefined && m.systemDisabled !== 0;

function isExpired(m: RoleMember, now: number): boolean {
  if (!m.expiration) return false;
  const at = Date.parse(m.expiration);
  // An unreadable expiration fails closed rather than granting forever.
  return Number.isNaN(at) || at < now;
}

/**
 * 7.3.2: role `D:role.X` trusts domain E. E must hold, in an active policy,
 * an `assume_role` assertion whose resource glob matches `D:role.X` and whose
 * role glob names an E role the principal directly belongs to. Only direct
 * membership counts in E, so delegation never chains.
 */
function delegatedTrust(trustName: string, roleName: string, ctx: Ctx): boolean {
  const trusted = ctx.lookup(trustName);
  // ZTS drops disabled domains, so a disabled trusted domain vouches for no one
  // (ZMS itself does not check the trusted domain's enabled flag).
  if (!trusted || trusted.enabled === false) return false;
  for (const policy of activePolicies(trusted)) {
    for (const a of policy.assertions ?? []) {
      if (a.action.toLowerCase() !== ASSUME_ROLE) continue;
      if (!globMatch(a.resource.toLowerCase(), roleName)) continue;
      const roleGlob = a.role.toLowerCase();
      const admits = trusted.roles.some(
        (r) => globMatch(roleGlob, r.name.toLowerCase()) && !!r.roleMembers && isValidMember(r.roleMembers, ctx.principal, ctx.now),
      );
      if (admits) return true;
    }
  }
  return false;
}

/**
 * A user's home domain `user.<id>` that does not exist yet behaves as if it
 * did with that user as its only admin, which is what lets the user create it.
 */
function virtualHomeDomain(domainName: string, principal: string, now: Date): DomainData | undefined {
  if (principal !== domainName || !domainName.startsWith(USER_DOMAIN_PREFIX)) return undefined;
  // Only `user.<id>` itself: `user.jane.x` is a service of domain `user.jane`.
  if (domainName.indexOf('.', USER_DOMAIN_PREFIX.length) >= 0) return undefined;
  const adminRole = `${domainName}:role.admin`;
  return {
    name: domainName,
    modified: now.toISOString(),
    enabled: true,
    roles: [{ name: adminRole, roleMembers: [{ memberName: principal }] }],
    policies: {
      contents: {
        domain: domainName,
        policies: [
          {
            name: `${domainName}:policy.admin`,
            assertions: [{ role: adminRole, resource: `${domainName}:*`, action: '*', effect: 'ALLOW' }],
          },
        ],
      },
    },
    services: [],
    entities: [],
    groups: [],
  };
}
