/** History: the domain's audit log (Tessera's form of Athenz's change log). */
import type { FastifyInstance } from 'fastify';
import { domainData, domainHistory } from '../domain-read.ts';
import { callerOf, names, queryOf } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

export async function historyRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  // Athenz records every ZTS authorization; Tessera knows only certificate registrations and refreshes,
  // so those are the domain's incoming dependencies (its services calling ZTS for it), and nothing is outgoing.
  app.get('/domain/:domain/history/auth', { schema: { operationId: 'getAuthHistoryDependencies', tags: ['history'], params: S.params({ domain: S.domainName }), response: { 200: S.AuthHistoryDependencies, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const rows = await ctx.db
      .selectFrom('cert_records')
      .select(['service', 'current_time', 'expiry_time'])
      .where('service', 'like', `${domain}.%`)
      .orderBy('current_time', 'desc')
      .limit(1000)
      .execute();
    const incoming = rows
      .filter((r) => r.service.lastIndexOf('.') === domain.length)
      .map((r) => ({
        uriDomain: domain,
        principalDomain: domain,
        principalName: r.service.slice(domain.length + 1),
        timestamp: r.current_time,
        endpoint: '/zts/v1/instance',
        ttl: Math.floor(Date.parse(r.expiry_time) / 1000),
      }));
    return { incomingDependencies: incoming, outgoingDependencies: [] };
  });

  app.get('/domain/:domain/history', { schema: { operationId: 'getDomainHistory', tags: ['history'], summary: 'Tessera extension: the domain audit log', params: S.params({ domain: S.domainName }), querystring: S.query({ limit: S.intString }), response: { 200: S.DomainHistory, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    const limit = Math.min(Number(queryOf(req).limit ?? 100) || 100, 1000);
    return domainHistory(ctx, domain, limit);
  });
}
