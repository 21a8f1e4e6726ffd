/**
 * Reads whole domains (roles with members, policies with assertions, services
 * with keys) in the DomainData shape that access checks and ZTS consume.
 */
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Assertion, DomainData, Effect, Policy, Role, ServiceIdentity } from '@tessera/core/model';
import type { Database } from './schema.ts';
import { domainFromRow } from './domain-rows.ts';

type Db = Kysely<Database>;

/**
 * Tens of thousands of domains stay in memory (the snapshots), so their form
 * is kept lean: values that repeat across domains (member names, actions,
 * effects, timestamps written in one go) are shared rather than held once per
 * row, and the always-empty lists are one shared frozen array.
 */
const NONE = Object.freeze([]) as unknown as unknown[];

function sharing(): (s: string) => string {
  const seen = new Map<string, string>();
  return (s) => {
    const found = seen.get(s);
    if (found !== undefined) return found;
    seen.set(s, s);
    return s;
  };
}

/**
 * Which domains to load: these names; every domain whose name sorts from
 * `from` to `to` (a range reads the tables' primary-key order, with no sort
 * and no long IN list: the full load at start); or all of them.
 */
export type DomainSelection = string[] | { from: string; to: string } | undefined;

/** Loads the selected domains, keyed by name. */
export async function loadDomainData(db: Db, selection?: DomainSelection): Promise<Map<string, DomainData>> {
  const result = new Map<string, DomainData>();
  if (Array.isArray(selection) && selection.length === 0) return result;
  // One filter for every table: the domain's name column is `name` in domains and `domain` elsewhere.
  const scope = <Q extends SelectQueryBuilder<Database, keyof Database, object>>(q: Q, column: 'name' | 'domain'): Q => {
    if (selection === undefined) return q;
    const ref = sql.ref(column);
    return (Array.isArray(selection)
      ? q.where(sql<boolean>`${ref} in (${sql.join(selection)})`)
      : q.where(sql<boolean>`${ref} between ${selection.from} and ${selection.to}`)) as Q;
  };
  const domainRows = await scope(db.selectFrom('domains').selectAll(), 'name').execute();
  if (domainRows.length === 0) return result;
  const share = sharing();

  // Ordered by domain first, as the primary keys are: the order within a domain is what matters.
  const [roles, members, policies, assertions, services, keys] = await Promise.all([
    scope(db.selectFrom('roles').selectAll(), 'domain').orderBy('domain').orderBy('name').execute(),
    scope(db.selectFrom('role_members').selectAll(), 'domain').orderBy('domain').orderBy('role').orderBy('member_name').execute(),
    scope(db.selectFrom('policies').selectAll(), 'domain').orderBy('domain').orderBy('name').execute(),
    scope(db.selectFrom('assertions').selectAll(), 'domain').orderBy('domain').orderBy('policy').orderBy('id').execute(),
    scope(db.selectFrom('services').selectAll(), 'domain').orderBy('domain').orderBy('name').execute(),
    scope(db.selectFrom('public_keys').selectAll(), 'domain').orderBy('domain').orderBy('service').orderBy('key_id').execute(),
  ]);

  for (const row of domainRows) {
    const { id: _id, ...meta } = domainFromRow(row);
    result.set(row.name, {
      ...meta,
      name: row.name,
      modified: share(row.modified),
      roles: [],
      policies: { contents: { domain: row.name, policies: [] } },
      services: [],
      entities: NONE,
      groups: NONE,
    });
  }

  const roleByKey = new Map<string, Role>();
  for (const r of roles) {
    const role: Role = { name: `${share(r.domain)}:role.${r.name}`, modified: share(r.modified) };
    if (r.trust) role.trust = r.trust;
    else role.roleMembers = [];
    if (r.description) role.description = r.description;
    roleByKey.set(`${r.domain}\n${r.name}`, role);
    result.get(r.domain)?.roles.push(role);
  }
  for (const m of members) {
    const role = roleByKey.get(`${m.domain}\n${m.role}`);
    if (!role?.roleMembers) continue;
    role.roleMembers.push({
      memberName: share(m.member_name),
      ...(m.expiration ? { expiration: m.expiration } : {}),
      ...(m.system_disabled ? { systemDisabled: m.system_disabled } : {}),
    });
  }

  const policyByKey = new Map<string, Policy>();
  for (const p of policies) {
    // Athenz's policies carry a version and whether it is the active one; Tessera keeps one version, "0", active.
    const policy: Policy = { name: `${share(p.domain)}:policy.${p.name}`, modified: share(p.modified), assertions: [], version: '0', active: true };
    if (p.case_sensitive) policy.caseSensitive = true;
    if (p.description) policy.description = p.description;
    policyByKey.set(`${p.domain}\n${p.name}`, policy);
    result.get(p.domain)?.policies.contents.policies.push(policy);
  }
  for (const a of assertions) {
    policyByKey.get(`${a.domain}\n${a.policy}`)?.assertions.push(assertionFromRow({ ...a, action: share(a.action), effect: share(a.effect) }));
  }

  const serviceByKey = new Map<string, ServiceIdentity>();
  for (const s of services) {
    const service: ServiceIdentity = { name: `${share(s.domain)}.${s.name}`, modified: share(s.modified), publicKeys: [] };
    if (s.description) service.description = s.description;
    if (s.provider_endpoint) service.providerEndpoint = s.provider_endpoint;
    serviceByKey.set(`${s.domain}\n${s.name}`, service);
    result.get(s.domain)?.services.push(service);
  }
  for (const k of keys) serviceByKey.get(`${k.domain}\n${k.service}`)?.publicKeys?.push({ id: share(k.key_id), key: share(k.key) });

  return result;
}

export function assertionFromRow(a: {
  id: number;
  role: string;
  resource: string;
  action: string;
  effect: string;
  case_sensitive: number;
}): Assertion {
  return {
    id: Number(a.id),
    role: a.role,
    resource: a.resource,
    action: a.action,
    effect: a.effect as Effect,
    ...(a.case_sensitive ? { caseSensitive: true } : {}),
  };
}
