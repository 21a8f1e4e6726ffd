/** Roles and their members: getRoleList, getRoles, getRole, putRole, deleteRole, getMembership, putMembership, deleteMembership. */
import type { FastifyInstance } from 'fastify';
import { roleResourceName } from '@tessera/core/names';
import { authorize } from '../authorize.ts';
import { domainData, shortName } from '../domain-read.ts';
import { deleteMembership, deleteRole, getRole, putMembership, putRole, roleAuditLog } from '../roles.ts';
import { actorOf, callerOf, names, queryOf, sendStored } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';

export async function rolesRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  app.get('/domain/:domain/role', async (req) => {
    callerOf(auth, req);
    return { names: domainData(ctx, names(req).domain()).roles.map((r) => shortName(r.name)) };
  });

  app.get('/domain/:domain/roles', async (req) => {
    callerOf(auth, req);
    return { list: domainData(ctx, names(req).domain()).roles };
  });

  app.get('/domain/:domain/role/:role', async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    const role = names(req).role();
    domainData(ctx, domain);
    const found = getRole(ctx, domain, role);
    return queryOf(req).auditLog === 'true' ? { ...found, auditLog: await roleAuditLog(ctx, domain, role) } : found;
  });

  app.put('/domain/:domain/role/:role', async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const role = names(req).role();
    domainData(ctx, domain);
    authorize(ctx, 'putRole', a.principal, 'update', roleResourceName(domain, role));
    await putRole(ctx, a, domain, role, req.body);
    return sendStored(req, reply, () => getRole(ctx, domain, role));
  });

  app.delete('/domain/:domain/role/:role', async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const role = names(req).role();
    domainData(ctx, domain);
    authorize(ctx, 'deleteRole', a.principal, 'delete', roleResourceName(domain, role));
    await deleteRole(ctx, a, domain, role);
    return reply.code(204).send();
  });

  app.get('/domain/:domain/role/:role/member/:member', async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    const role = names(req).role();
    const member = names(req).member();
    domainData(ctx, domain);
    const m = getRole(ctx, domain, role).roleMembers?.find((x) => x.memberName === member);
    return { memberName: member, roleName: role, isMember: !!m, ...(m?.expiration ? { expiration: m.expiration } : {}) };
  });

  app.put('/domain/:domain/role/:role/member/:member', async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const role = names(req).role();
    const member = names(req).member();
    domainData(ctx, domain);
    await putMembership(ctx, a, domain, role, member, req.body ?? {});
    return sendStored(req, reply, () => ({ memberName: member, roleName: role, isMember: true }));
  });

  app.delete('/domain/:domain/role/:role/member/:member', async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    await deleteMembership(ctx, a, domain, names(req).role(), names(req).member());
    return reply.code(204).send();
  });
}
