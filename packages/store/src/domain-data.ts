/**
 * Reads whole domains (roles with members, policies with assertions, services
 * with keys) for the in-memory snapshots, and turns them into the DomainData
 * shape that access checks and ZTS consume.
 *
 * A domain is read as one row: its own columns (the summary: name, modified,
 * meta) and one JSON text, built by the database, holding its roles, policies
 * and services as positional arrays. The snapshots keep that text as it came
 * and build the DomainData objects only for the domains asked for
 * (materialize()): 100k domains are 100k strings in memory, not millions of
 * small objects, and a start reads 100k rows, not 1.3 million (issue 24: a
 * start at 100k domains took 11 s of CPU, a third of it garbage collection,
 * and 800 MB).
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Assertion, DomainData, Effect, Policy, Role, RoleMember, ServiceIdentity } from '@tessera/core/model';
import type { Database, DomainsTable } from './schema.ts';
import type { Dialect } from './dialect.ts';
import { domainFromRow } from './domain-rows.ts';

type Db = Kysely<Database>;

/** A domain without its roles, policies and services: what lists and `modified_domains?metaonly` need. */
export type DomainSummary = Omit<DomainData, 'roles' | 'policies' | 'services' | 'entities' | 'groups'>;

/** One stored domain: its summary, and its roles, policies and services as the database wrote them. */
export interface DomainEntry {
  summary: DomainSummary;
  /** JSON: [roles, policies, services], each a list of positional arrays (see bodyColumn). */
  body: string;
}

/**
 * Which domains to load: these names; every domain whose name sorts from
 * `from` to `to` (a range reads the tables' primary-key order, with no sort
 * and no long IN list: the full load at start); or all of them.
 */
export type DomainSelection = string[] | { from: string; to: string } | undefined;

type Sql = RawBuilder<unknown>;
const c = (column: string) => sql.ref(column);

/**
 * The JSON text of a domain's roles, policies and services, one correlated
 * subquery per table (each an index range on the table's primary key):
 *   roles:    [name, modified, trust, description, [[member_name, expiration, system_disabled], ...]]
 *   policies: [name, modified, description, case_sensitive, [[id, role, resource, action, effect, case_sensitive], ...]]
 *   services: [name, modified, description, provider_endpoint, [[key_id, key], ...]]
 */
function bodyColumn(dialect: Dialect): RawBuilder<string> {
  // json_agg of no rows is NULL. A SQLite subquery's value loses its JSON subtype, so json() marks it as JSON again (else it is nested as a string).
  const [tuple, list, text] = dialect === 'postgres'
    ? [(...v: Sql[]) => sql`json_build_array(${sql.join(v)})`, (e: Sql, from: Sql, order: Sql) => sql`coalesce((select json_agg(${e} order by ${order}) from ${from}), '[]'::json)`, (b: Sql) => sql<string>`${b}::text`]
    : [(...v: Sql[]) => sql`json_array(${sql.join(v)})`, (e: Sql, from: Sql, order: Sql) => sql`json((select json_group_array(${e} order by ${order}) from ${from}))`, (b: Sql) => sql<string>`${b}`];
  const members = list(tuple(c('m.member_name'), c('m.expiration'), c('m.system_disabled')), sql`role_members m where m.domain = r.domain and m.role = r.name`, c('m.member_name'));
  const assertions = list(tuple(c('a.id'), c('a.role'), c('a.resource'), c('a.action'), c('a.effect'), c('a.case_sensitive')), sql`assertions a where a.domain = p.domain and a.policy = p.name`, c('a.id'));
  const keys = list(tuple(c('k.key_id'), c('k.key')), sql`public_keys k where k.domain = s.domain and k.service = s.name`, c('k.key_id'));
  // ::text on PostgreSQL, so that pg hands over the text and does not parse it.
  return text(tuple(
    list(tuple(c('r.name'), c('r.modified'), c('r.trust'), c('r.description'), members), sql`roles r where r.domain = d.name`, c('r.name')),
    list(tuple(c('p.name'), c('p.modified'), c('p.description'), c('p.case_sensitive'), assertions), sql`policies p where p.domain = d.name`, c('p.name')),
    list(tuple(c('s.name'), c('s.modified'), c('s.description'), c('s.provider_endpoint'), keys), sql`services s where s.domain = d.name`, c('s.name')),
  ));
}

/**
 * PostgreSQL, a range of domains (the full load): the same rows and JSON
 * text, built set-wise: each child table of the range is read once and
 * grouped (members by role, then roles by domain, ...), and the domains are
 * joined to the groups. Per domain correlated subqueries cost PostgreSQL
 * about 40% more CPU and a start waits for it (issue 24: 2.9–4.4 s against
 * 2.1–3.2 s for 100k domains).
 */
function postgresRange(from: string, to: string): RawBuilder<DomainsTable & { body: string }> {
  const selected = (column: string) => sql`${c(column)} between ${from} and ${to}`;
  const tuple = (...v: Sql[]) => sql`json_build_array(${sql.join(v)})`;
  const nested = (ref: string) => sql`coalesce(${c(ref)}, '[]'::json)`;
  // json_agg of no rows is NULL (a role without members has no group): coalesce makes it [].
  return sql<DomainsTable & { body: string }>`
    with m as (select domain, role, json_agg(${tuple(c('member_name'), c('expiration'), c('system_disabled'))} order by member_name) j
               from role_members where ${selected('domain')} group by domain, role),
    r as (select r.domain, json_agg(${tuple(c('r.name'), c('r.modified'), c('r.trust'), c('r.description'), nested('m.j'))} order by r.name) j
          from roles r left join m on m.domain = r.domain and m.role = r.name where ${selected('r.domain')} group by r.domain),
    a as (select domain, policy, json_agg(${tuple(c('id'), c('role'), c('resource'), c('action'), c('effect'), c('case_sensitive'))} order by id) j
          from assertions where ${selected('domain')} group by domain, policy),
    p as (select p.domain, json_agg(${tuple(c('p.name'), c('p.modified'), c('p.description'), c('p.case_sensitive'), nested('a.j'))} order by p.name) j
          from policies p left join a on a.domain = p.domain and a.policy = p.name where ${selected('p.domain')} group by p.domain),
    k as (select domain, service, json_agg(${tuple(c('key_id'), c('key'))} order by key_id) j
          from public_keys where ${selected('domain')} group by domain, service),
    s as (select s.domain, json_agg(${tuple(c('s.name'), c('s.modified'), c('s.description'), c('s.provider_endpoint'), nested('k.j'))} order by s.name) j
          from services s left join k on k.domain = s.domain and k.service = s.name where ${selected('s.domain')} group by s.domain)
    select d.*, ${tuple(nested('r.j'), nested('p.j'), nested('s.j'))}::text as body
    from domains d left join r on r.domain = d.name left join p on p.domain = d.name left join s on s.domain = d.name
    where ${selected('d.name')}`;
}

/** Loads the selected domains as entries (summary and stored body), keyed by name. */
export async function loadDomainEntries(db: Db, dialect: Dialect, selection?: DomainSelection): Promise<Map<string, DomainEntry>> {
  const result = new Map<string, DomainEntry>();
  if (Array.isArray(selection) && selection.length === 0) return result;
  let rows: (DomainsTable & { body: string })[];
  if (dialect === 'postgres' && selection && !Array.isArray(selection)) {
    rows = await db.transaction().execute(async (trx) => {
      // No nested loops: on tables just filled, before autovacuum's ANALYZE, the planner
      // expects one row per group and would rebuild a group for every domain (7 s for 2,000).
      await sql`set local enable_nestloop = off`.execute(trx);
      return (await postgresRange(selection.from, selection.to).execute(trx)).rows;
    });
  } else {
    let query = db.selectFrom('domains as d').selectAll('d').select(bodyColumn(dialect).as('body'));
    if (Array.isArray(selection)) query = query.where('d.name', 'in', selection);
    else if (selection) query = query.where('d.name', '>=', selection.from).where('d.name', '<=', selection.to);
    rows = await query.execute();
  }
  for (const row of rows) {
    const { body, ...columns } = row;
    const { id: _id, ...meta } = domainFromRow(columns);
    result.set(row.name, { summary: { ...meta, name: row.name, modified: row.modified }, body });
  }
  return result;
}

type Nullable<T> = T | null;
type RoleTuple = [string, string, Nullable<string>, Nullable<string>, [string, Nullable<string>, number][]];
type PolicyTuple = [string, string, Nullable<string>, number, [number, string, string, string, string, number][]];
type ServiceTuple = [string, string, Nullable<string>, Nullable<string>, [string, string][]];

/** The always-empty `entities`/`groups` lists: one shared frozen array. */
const NONE = Object.freeze([]) as unknown as unknown[];

/** The DomainData of a stored entry (a new object graph on each call: the snapshots cache it). */
export function materialize({ summary, body }: DomainEntry): DomainData {
  const [roles, policies, services] = JSON.parse(body) as [RoleTuple[], PolicyTuple[], ServiceTuple[]];
  const name = summary.name;
  return {
    ...summary,
    roles: roles.map(([role, modified, trust, description, members]) => {
      const r: Role = { name: `${name}:role.${role}`, modified };
      if (trust) r.trust = trust;
      else r.roleMembers = members.map(([memberName, expiration, systemDisabled]) => {
        const m: RoleMember = { memberName };
        if (expiration) m.expiration = expiration;
        if (systemDisabled) m.systemDisabled = systemDisabled;
        return m;
      });
      if (description) r.description = description;
      return r;
    }),
    policies: {
      contents: {
        domain: name,
        // Athenz's policies carry a version and whether it is the active one; Tessera keeps one version, "0", active.
        policies: policies.map(([policy, modified, description, caseSensitive, assertions]) => {
          const p: Policy = { name: `${name}:policy.${policy}`, modified, assertions: assertions.map(([id, role, resource, action, effect, cs]) => assertionFromRow({ id, role, resource, action, effect, case_sensitive: cs })), version: '0', active: true };
          if (caseSensitive) p.caseSensitive = true;
          if (description) p.description = description;
          return p;
        }),
      },
    },
    services: services.map(([service, modified, description, providerEndpoint, keys]) => {
      const s: ServiceIdentity = { name: `${name}.${service}`, modified, publicKeys: keys.map(([id, key]) => ({ id, key })) };
      if (description) s.description = description;
      if (providerEndpoint) s.providerEndpoint = providerEndpoint;
      return s;
    }),
    entities: NONE,
    groups: NONE,
  };
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
