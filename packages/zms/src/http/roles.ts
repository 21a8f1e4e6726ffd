/** Roles and their members: getRoleList, getRoles, getRole, putRole, deleteRole, getMembership, putMembership, deleteMembership. */
import type { FastifyInstance } from 'fastify';
import { forbidden } from '@tessera/core/errors';
import type { Role, RoleMember } from '@tessera/core/model';
import { domainData, shortName } from '../domain-read.ts';
import { deleteMembership, deleteRole, getRole, putMembership, putRole, roleAuditLog } from '../roles.ts';
import { actorOf, callerOf, names, queryOf, sendStored } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

export async function rolesRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  app.get('/role', { schema: { operationId: 'getPrincipalRoles', tags: ['roles'], querystring: S.query({ principal: { ...S.memberName, type: 'string' }, domain: S.domainName, expand: S.boolString }), response: { 200: S.DomainRoleMember, ...S.errors } } }, async (req) => {
    const who = callerOf(auth, req);
    const q = queryOf(req);
    const principal = (q.principal || who).toLowerCase();
    // Athenz: an expanded look-up of someone else needs extra rights; Tessera has no groups or delegation to expand.
    if (q.expand === 'true' && principal !== who) throw forbidden('getPrincipalRoles: principal is not authorized to request expanded role lookup');
    // Across every domain: only those whose stored roles name the principal are built and looked at.
    const domains = q.domain ? [domainData(ctx, q.domain.toLowerCase())] : ctx.snapshots.mentioning(principal).sort((a, b) => (a.name < b.name ? -1 : 1));
    return { memberName: principal, memberRoles: domains.flatMap((d) => memberRolesOf(d.name, d.roles, principal)) };
  });

  app.get('/domain/:domain/member', { schema: { operationId: 'getDomainRoleMembers', tags: ['roles'], params: S.params({ domain: S.domainName }), response: { 200: S.DomainRoleMembers, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    const byMember = new Map<string, ReturnType<typeof memberRole>[]>();
    for (const role of domainData(ctx, domain).roles) {
      for (const m of role.roleMembers ?? []) {
        const list = byMember.get(m.memberName) ?? [];
        list.push(memberRole(shortName(role.name), m));
        byMember.set(m.memberName, list);
      }
    }
    const members = [...byMember.keys()].sort().map((memberName) => ({ memberName, memberRoles: byMember.get(memberName)! }));
    return { domainName: domain, members };
  });

  app.get('/domain/:domain/role', { schema: { operationId: 'getRoleList', tags: ['roles'], params: S.params({ domain: S.domainName }), querystring: S.query({ limit: S.intString, skip: S.anyString() }), response: { 200: S.RoleList, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    return { names: domainData(ctx, names(req).domain()).roles.map((r) => shortName(r.name)) };
  });

  app.get('/domain/:domain/roles', { schema: { operationId: 'getRoles', tags: ['roles'], params: S.params({ domain: S.domainName }), querystring: S.query({ members: S.boolString, tagKey: S.anyString(), tagValue: S.anyString() }), response: { 200: S.Roles, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    return { list: domainData(ctx, names(req).domain()).roles };
  });

  app.get('/domain/:domain/role/:role', { schema: { operationId: 'getRole', tags: ['roles'], params: S.params({ domain: S.domainName, role: S.entityName }), querystring: S.query({ auditLog: S.boolString, expand: S.boolString, pending: S.boolString }), response: { 200: S.Role, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    const role = names(req).role();
    domainData(ctx, domain);
    const found = getRole(ctx, domain, role);
    return queryOf(req).auditLog === 'true' ? { ...found, auditLog: await roleAuditLog(ctx, domain, role) } : found;
  });

  app.put('/domain/:domain/role/:role', { schema: { operationId: 'putRole', tags: ['roles'], params: S.params({ domain: S.domainName, role: S.entityName }), body: S.Role, response: { 200: S.Role, ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const role = names(req).role();
    domainData(ctx, domain);
    await putRole(ctx, a, domain, role, req.body);
    return sendStored(req, reply, () => getRole(ctx, domain, role));
  });

  app.delete('/domain/:domain/role/:role', { schema: { operationId: 'deleteRole', tags: ['roles'], params: S.params({ domain: S.domainName, role: S.entityName }), response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const role = names(req).role();
    domainData(ctx, domain);
    await deleteRole(ctx, a, domain, role);
    return reply.code(204).send();
  });

  app.get('/domain/:domain/role/:role/member/:member', { schema: { operationId: 'getMembership', tags: ['roles'], params: S.params({ domain: S.domainName, role: S.entityName, member: S.memberName }), querystring: S.query({ expiration: S.anyString() }), response: { 200: S.Membership, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    const role = names(req).role();
    const member = names(req).member();
    domainData(ctx, domain);
    const m = getRole(ctx, domain, role).roleMembers?.find((x) => x.memberName === member);
    return { memberName: member, roleName: role, isMember: !!m, ...(m?.expiration ? { expiration: m.expiration } : {}) };
  });

  app.put('/domain/:domain/role/:role/member/:member', { schema: { operationId: 'putMembership', tags: ['roles'], params: S.params({ domain: S.domainName, role: S.entityName, member: S.memberName }), body: S.Membership, response: { 200: S.Membership, ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const role = names(req).role();
    const member = names(req).member();
    domainData(ctx, domain);
    await putMembership(ctx, a, domain, role, member, req.body ?? {});
    return sendStored(req, reply, () => ({ memberName: member, roleName: role, isMember: true }));
  });

  app.delete('/domain/:domain/role/:role/member/:member', { schema: { operationId: 'deleteMembership', tags: ['roles'], params: S.params({ domain: S.domainName, role: S.entityName, member: S.memberName }), response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    await deleteMembership(ctx, a, domain, names(req).role(), names(req).member());
    return reply.code(204).send();
  });
}

/** Athenz's MemberRole: one role a member is in (short role name, as Athenz returns it). */
function memberRole(roleName: string, m: RoleMember, domainName?: string) {
  return {
    roleName,
    ...(domainName ? { domainName } : {}),
    ...(m.expiration ? { expiration: m.expiration } : {}),
    ...(m.auditRef ? { auditRef: m.auditRef } : {}),
    ...(m.systemDisabled ? { systemDisabled: m.systemDisabled } : {}),
  };
}

function memberRolesOf(domain: string, roles: Role[], principal: string) {
  return roles.flatMap((r) => {
    const m = r.roleMembers?.find((x) => x.memberName === principal);
    return m ? [{ ...memberRole(shortName(r.name), m, domain), memberName: principal }] : [];
  });
}
