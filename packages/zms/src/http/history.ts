/** History: the domain's audit log (Tessera's form of Athenz's change log). */
import type { FastifyInstance } from 'fastify';
import { domainHistory } from '../domain-read.ts';
import { callerOf, names, queryOf } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

export async function historyRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  app.get('/domain/:domain/history', { schema: { operationId: 'getDomainHistory', tags: ['history'], summary: 'Tessera extension: the domain audit log', params: S.params({ domain: S.domainName }), querystring: S.query({ limit: S.intString }), response: { 200: S.DomainHistory, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    const limit = Math.min(Number(queryOf(req).limit ?? 100) || 100, 1000);
    return domainHistory(ctx, domain, limit);
  });
}
