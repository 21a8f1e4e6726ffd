/**
 * Pending memberships and review lists, which the Athenz UI's page header
 * loads on every page. Tessera has no approval or review flows (members are
 * added at once; there are no review dates), so the lists are always empty —
 * the right answer, in Athenz's types, rather than a 404.
 */
import type { FastifyInstance } from 'fastify';
import { forbidden } from '@tessera/core/errors';
import { isSystemAdmin } from '../authorize.ts';
import { callerOf, queryOf } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

const anyDomain = { anyOf: [S.domainName, { type: 'string', const: '*' }] };
const list = (key: string) => S.obj({ [key]: { type: 'array', items: { type: 'object' } } }, [key]);

export async function pendingAndReviewRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;
  const pendingQuery = S.query({ principal: S.memberName, domain: anyDomain });

  app.get('/pending_members', { schema: { operationId: 'getPendingDomainRoleMembersList', tags: ['roles'], querystring: pendingQuery, response: { 200: list('domainRoleMembersList'), ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    return { domainRoleMembersList: [] };
  });

  app.get('/pending_group_members', { schema: { operationId: 'getPendingDomainGroupMembersList', tags: ['roles'], querystring: pendingQuery, response: { 200: list('domainGroupMembersList'), ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    return { domainGroupMembersList: [] };
  });

  for (const kind of ['role', 'group'] as const) {
    const operationId = kind === 'role' ? 'getRolesForReview' : 'getGroupsForReview';
    app.get(`/review/${kind}`, { schema: { operationId, tags: ['roles'], querystring: S.query({ principal: S.memberName }), response: { 200: list('list'), ...S.errors } } }, async (req) => {
      const who = callerOf(auth, req);
      const principal = queryOf(req).principal?.toLowerCase() ?? who;
      // As Athenz: one's own list, or a system admin's look-up of another principal's.
      if (principal !== who && !isSystemAdmin(ctx, who)) throw forbidden(`${operationId}: principal is not authorized to request ${kind} review list (only ${principal} or a system admin may)`);
      return { list: [] };
    });
  }
}
