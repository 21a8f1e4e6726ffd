/**
 * Pending memberships and review lists, which the Athenz UI's page header
 * loads on every page, and the lists its Groups and Visibility tabs load.
 * Tessera has no approval or review flows (members are added at once; there
 * are no review dates), no groups and no service dependencies, so the lists
 * are always empty — the right answer, in Athenz's types, rather than a 404.
 */
import type { FastifyInstance } from 'fastify';
import { forbidden } from '@tessera/core/errors';
import { isSystemAdmin } from '../authorize.ts';
import { domainData } from '../domain-read.ts';
import { callerOf, names, queryOf } from './request.ts';
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

  // The Groups tab (Athenz's getGroups, with ?members=true&tagKey=&tagValue=): a domain has no groups.
  app.get('/domain/:domain/groups', { schema: { operationId: 'getGroups', tags: ['roles'], params: S.params({ domain: S.domainName }), response: { 200: list('list'), ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    domainData(ctx, names(req).domain());
    return { list: [] };
  });

  // The Visibility tab: services that registered a dependency on the domain (Athenz's putDomainDependency); none here.
  app.get('/dependency/domain/:domain/resourceGroup', { schema: { operationId: 'getDependentServiceResourceGroupList', tags: ['roles'], params: S.params({ domain: S.domainName }), response: { 200: list('serviceAndResourceGroups'), ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    domainData(ctx, names(req).domain());
    return { serviceAndResourceGroups: [] };
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
