/** Access checks: getAccess and getAccessExt. */
import type { FastifyInstance } from 'fastify';
import { badRequest } from '@tessera/core/errors';
import { checkAccess } from '../access-check.ts';
import { callerOf, queryOf, type Params } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

export async function accessRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  app.get('/access/:action/:resource', { schema: { operationId: 'getAccess', tags: ['access'], params: S.params({ action: S.anyString(S.LIMITS.action), resource: S.anyString() }), querystring: S.query({ domain: S.anyString(), principal: S.anyString() }), response: { 200: S.Access, ...S.errors } } }, async (req) => {
    const q = queryOf(req);
    const p = req.params as Params;
    return checkAccess(ctx, callerOf(auth, req), { action: p.action, resource: p.resource, principal: q.principal, trustDomain: q.domain });
  });

  app.get('/access/:action', { schema: { operationId: 'getAccessExt', tags: ['access'], params: S.params({ action: S.anyString(S.LIMITS.action) }), querystring: S.query({ resource: S.anyString(), domain: S.anyString(), principal: S.anyString() }), response: { 200: S.Access, ...S.errors } } }, async (req) => {
    const q = queryOf(req);
    if (!q.resource) throw badRequest('getAccessExt: resource query parameter is required');
    return checkAccess(ctx, callerOf(auth, req), {
      action: (req.params as Params).action,
      resource: q.resource,
      principal: q.principal,
      trustDomain: q.domain,
    });
  });
}
