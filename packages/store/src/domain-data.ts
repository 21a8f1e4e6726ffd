/**
 * Reads whole domains (roles with members, policies with assertions, services
 * with keys) in the DomainData shape that access checks and ZTS consume.
 */
import type { Kysely } from 'kysely';
import type { Assertion, DomainData, Effect, Policy, Role, ServiceIdentity } from '@tessera/core/model';
import type { Database } from './schema.ts';
import { domainFromRow } from './domain-rows.ts';

type Db = Kysely<Database>;

/** Loads the named domains (all when `names` is undefined), keyed by name. */
export async function loadDomainData(db: Db, names?: string[]): Promise<Map<string, DomainData>> {
  const result = new Map<string, DomainData>();
  if (names && names.length === 0) return result;
  const only = names ?? [];
  const domainRows = await db
    .selectFrom('domains')
    .selectAll()
    .$if(names !== undefined, (q) => q.where('name', 'in', only))
    .execute();
  if (domainRows.length === 0) return result;

  const [roles, members, policies, assertions, services, keys] = await Promise.all([
    db.selectFrom('roles').selectAll().$if(names !== undefined, (q) => q.where('domain', 'in', only)).orderBy('name').execute(),
    db.selectFrom('role_members').selectAll().$if(names !== undefined, (q) => q.where('domain', 'in', only)).orderBy('member_name').execute(),
    db.selectFrom('policies').selectAll().$if(names !== undefined, (q) => q.where('domain', 'in', only)).orderBy('name').execute(),
    db.selectFrom('assertions').selectAll().$if(names !== undefined, (q) => q.where('domain', 'in', only)).orderBy('id').execute(),
    db.selectFrom('services').selectAll().$if(names !== undefined, (q) => q.where('domain', 'in', only)).orderBy('name').execute(),
    db.selectFrom('public_keys').selectAll().$if(names !== undefined, (q) => q.where('domain', 'in', only)).orderBy('key_id').execute(),
  ]);

  for (const row of domainRows) {
    const { id: _id, ...meta } = domainFromRow(row);
    result.set(row.name, {
      ...meta,
      name: row.name,
      modified: row.modified,
      roles: [],
      policies: { contents: { domain: row.name, policies: [] } },
      services: [],
      entities: [],
      groups: [],
    });
  }

  const roleByKey = new Map<string, Role>();
  for (const r of roles) {
    const role: Role = { name: `${r.domain}:role.${r.name}`, modified: r.modified };
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
      memberName: m.member_name,
      ...(m.expiration ? { expiration: m.expiration } : {}),
      ...(m.system_disabled ? { systemDisabled: m.system_disabled } : {}),
    });
  }

  const policyByKey = new Map<string, Policy>();
  for (const p of policies) {
    const policy: Policy = { name: `${p.domain}:policy.${p.name}`, modified: p.modified, assertions: [] };
    if (p.case_sensitive) policy.caseSensitive = true;
    if (p.description) policy.description = p.description;
    policyByKey.set(`${p.domain}\n${p.name}`, policy);
    result.get(p.domain)?.policies.contents.policies.push(policy);
  }
  for (const a of assertions) policyByKey.get(`${a.domain}\n${a.policy}`)?.assertions.push(assertionFromRow(a));

  const serviceByKey = new Map<string, ServiceIdentity>();
  for (const s of services) {
    const service: ServiceIdentity = { name: `${s.domain}.${s.name}`, modified: s.modified, publicKeys: [] };
    if (s.description) service.description = s.description;
    if (s.provider_endpoint) service.providerEndpoint = s.provider_endpoint;
    serviceByKey.set(`${s.domain}\n${s.name}`, service);
    result.get(s.domain)?.services.push(service);
  }
  for (const k of keys) serviceByKey.get(`${k.domain}\n${k.service}`)?.publicKeys?.push({ id: k.key_id, key: k.key });

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
