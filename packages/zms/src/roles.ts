/** Roles and their members. PUT role replaces the member list; member PUT/DELETE change one. */
import { badRequest, notFound } from '@tessera/core/errors';
import { roleResourceName, validName } from '@tessera/core/names';
import type { Role, RoleAuditLog, RoleMember } from '@tessera/core/model';
import { insertRows } from '@tessera/store/insert-rows';
import type { Actor, ZmsContext } from './context.ts';
import { writeDomain, type Trx } from './domain-write.ts';
import { asBody, optArray, optString, optTimestamp, type Body } from './body.ts';
import { domainExists } from './domain-create.ts';

function readMembers(body: Body): RoleMember[] {
  const list = optArray(body, 'roleMembers') ?? [];
  const plain = optArray(body, 'members') ?? [];
  if (list.length > 0 && plain.length > 0) throw badRequest('Send either roleMembers or members, not both');
  const members = [
    ...list.map((m, i) => {
      const o = asBody(m);
      return {
        memberName: validName('member', `roleMembers[${i}].memberName`, o.memberName),
        expiration: optTimestamp(o, 'expiration'),
      };
    }),
    ...plain.map((m, i) => ({ memberName: validName('member', `members[${i}]`, m) })),
  ];
  const seen = new Set<string>();
  return members.filter((m) => !seen.has(m.memberName) && seen.add(m.memberName));
}

/** Role name in the body must agree with the path (a bare short name is accepted). */
function checkBodyName(domain: string, role: string, body: Body): void {
  const name = optString(body, 'name');
  if (name === undefined) return;
  const lower = name.toLowerCase();
  if (lower !== role && lower !== roleResourceName(domain, role)) {
    throw badRequest(`putRole: role name in the body (${name}) does not match the path (${roleResourceName(domain, role)})`);
  }
}

export async function putRole(ctx: ZmsContext, actor: Actor, domain: string, role: string, raw: unknown): Promise<void> {
  const body = asBody(raw);
  checkBodyName(domain, role, body);
  const members = readMembers(body);
  const trust = optString(body, 'trust')?.toLowerCase();
  if (trust !== undefined) {
    validName('domain', 'trust', trust);
    if (members.length > 0) throw badRequest('putRole: a delegated (trust) role cannot have members');
    if (trust === domain) throw badRequest('putRole: a role cannot delegate to its own domain');
    if (!(await domainExists(ctx.db, trust))) throw badRequest(`putRole: Delegated role assigned to non existing domain: ${trust}`);
  }
  if (role === 'admin' && members.length === 0) throw badRequest('putRole: the admin role must keep at least one member');
  const description = optString(body, 'description') ?? null;

  await writeDomain(ctx, actor, { domain, api: 'putRole', kind: 'role' }, async (trx, modified) => {
    const before = await memberNames(trx, domain, role);
    await trx
      .insertInto('roles')
      .values({ domain, name: role, trust: trust ?? null, description, modified })
      .onConflict((oc) => oc.columns(['domain', 'name']).doUpdateSet({ trust: trust ?? null, description, modified }))
      .execute();
    await trx.deleteFrom('role_members').where('domain', '=', domain).where('role', '=', role).execute();
    await insertRows(
      trx,
      'role_members',
      members.map((m) => ({ domain, role, member_name: m.memberName, expiration: m.expiration ?? null, system_disabled: 0, audit_ref: actor.auditRef ?? null })),
    );
    const after = new Set(members.map((m) => m.memberName));
    return {
      result: undefined,
      details: {
        role,
        ...(trust ? { trust } : {}),
        added: members.map((m) => m.memberName).filter((m) => !before.has(m)),
        deleted: [...before].filter((m) => !after.has(m)),
      },
    };
  });
}

async function memberNames(trx: Trx, domain: string, role: string): Promise<Set<string>> {
  const rows = await trx.selectFrom('role_members').select('member_name').where('domain', '=', domain).where('role', '=', role).execute();
  return new Set(rows.map((r) => r.member_name));
}

async function requireRole(trx: Trx | ZmsContext['db'], domain: string, role: string, api: string): Promise<{ trust: string | null }> {
  const row = await trx.selectFrom('roles').select('trust').where('domain', '=', domain).where('name', '=', role).executeTakeFirst();
  if (!row) throw notFound(`${api}: Role not found: ${roleResourceName(domain, role)}`);
  return row;
}

export async function deleteRole(ctx: ZmsContext, actor: Actor, domain: string, role: string): Promise<void> {
  if (role === 'admin') throw badRequest('deleteRole: admin role cannot be deleted');
  await writeDomain(ctx, actor, { domain, api: 'deleteRole', kind: 'role' }, async (trx) => {
    await requireRole(trx, domain, role, 'deleteRole');
    await trx.deleteFrom('roles').where('domain', '=', domain).where('name', '=', role).execute();
    return { result: undefined, details: { role } };
  });
}

export async function putMembership(
  ctx: ZmsContext,
  actor: Actor,
  domain: string,
  role: string,
  member: string,
  raw: unknown,
): Promise<void> {
  const api = 'putMembership';
  const body = asBody(raw);
  const bodyMember = optString(body, 'memberName');
  if (bodyMember !== undefined && bodyMember.toLowerCase() !== member) {
    throw badRequest(`${api}: memberName in the body (${bodyMember}) does not match the path (${member})`);
  }
  const bodyRole = optString(body, 'roleName');
  if (bodyRole !== undefined && bodyRole.toLowerCase() !== role && bodyRole.toLowerCase() !== roleResourceName(domain, role)) {
    throw badRequest(`${api}: roleName in the body (${bodyRole}) does not match the path (${role})`);
  }
  const expiration = optTimestamp(body, 'expiration') ?? null;
  // Who may: http/authorization.ts (roleMembers).
  const resource = roleResourceName(domain, role);
  await writeDomain(ctx, actor, { domain, api, kind: 'role' }, async (trx, modified) => {
    const { trust } = await requireRole(trx, domain, role, api);
    if (trust) throw badRequest(`${api}: ${resource} is delegated to ${trust}; members are managed there`);
    await trx
      .insertInto('role_members')
      .values({ domain, role, member_name: member, expiration, system_disabled: 0, audit_ref: actor.auditRef ?? null })
      .onConflict((oc) => oc.columns(['domain', 'role', 'member_name']).doUpdateSet({ expiration, audit_ref: actor.auditRef ?? null }))
      .execute();
    await trx.updateTable('roles').set({ modified }).where('domain', '=', domain).where('name', '=', role).execute();
    return { result: undefined, details: { role, member, action: 'add', ...(expiration ? { expiration } : {}) } };
  });
}

export async function deleteMembership(ctx: ZmsContext, actor: Actor, domain: string, role: string, member: string): Promise<void> {
  const api = 'deleteMembership';
  // Who may (the role's managers, or the member itself): http/authorization.ts (roleMembers).
  const resource = roleResourceName(domain, role);
  await writeDomain(ctx, actor, { domain, api, kind: 'role' }, async (trx, modified) => {
    await requireRole(trx, domain, role, api);
    const remaining = await memberNames(trx, domain, role);
    if (!remaining.has(member)) throw notFound(`${api}: ${member} is not a member of ${resource}`);
    if (role === 'admin' && remaining.size === 1) throw badRequest(`${api}: cannot remove the last member of the admin role`);
    await trx.deleteFrom('role_members').where('domain', '=', domain).where('role', '=', role).where('member_name', '=', member).execute();
    await trx.updateTable('roles').set({ modified }).where('domain', '=', domain).where('name', '=', role).execute();
    return { result: undefined, details: { role, member, action: 'delete' } };
  });
}

export function getRole(ctx: ZmsContext, domain: string, role: string): Role {
  const found = ctx.snapshots.get(domain)?.roles.find((r) => r.name === roleResourceName(domain, role));
  if (!found) throw notFound(`getRole: Role not found: ${roleResourceName(domain, role)}`);
  return found;
}

/** Membership changes of one role, from the domain's audit log. */
export async function roleAuditLog(ctx: ZmsContext, domain: string, role: string): Promise<RoleAuditLog[]> {
  const rows = await ctx.db
    .selectFrom('audit_log')
    .selectAll()
    .where('domain', '=', domain)
    .where('api', 'in', ['putRole', 'putMembership', 'deleteMembership'])
    .orderBy('id')
    .execute();
  const log: RoleAuditLog[] = [];
  for (const r of rows) {
    const d = JSON.parse(r.details) as { role?: string; member?: string; action?: string; added?: string[]; deleted?: string[] };
    if (d.role !== role) continue;
    const entry = (member: string, action: string): RoleAuditLog => ({
      member,
      admin: r.principal,
      created: r.created,
      action,
      ...(r.audit_ref ? { auditRef: r.audit_ref } : {}),
    });
    if (d.member && d.action) log.push(entry(d.member, d.action.toUpperCase()));
    for (const m of d.added ?? []) log.push(entry(m, 'ADD'));
    for (const m of d.deleted ?? []) log.push(entry(m, 'DELETE'));
  }
  return log;
}
