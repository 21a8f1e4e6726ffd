/** Roles and their members: getRoleList, getRoles, getRole, putRole, deleteRole, getMembership, putMembership, deleteMembership. */
import type { FastifyInstance } from 'fastify';
import { roleResourceName } from '@tessera/core/names';
import { authorize } from '../authorize.ts';
import { domainData, shortName } from '../domain-read.ts';
import { deleteMembership, deleteRole, getRole, putMembership, putRole, roleAuditLog } from '../roles.ts';
import { actorOf, callerOf, names, queryOf, sendStored } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

export async function rolesRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

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
    authorize(ctx, 'putRole', a.principal, 'update', roleResourceName(domain, role));
    await putRole(ctx, a, domain, role, req.body);
    return sendStored(req, reply, () => getRole(ctx, domain, role));
  });

  app.delete('/domain/:domain/role/:role', { schema: { operationId: 'deleteRole', tags: ['roles'], params: S.params({ domain: S.domainName, role: S.entityName }), response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const role = names(req).role();
    domainData(ctx, domain);
    authorize(ctx, 'deleteRole', a.principal, 'delete', roleResourceName(domain, role));
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
