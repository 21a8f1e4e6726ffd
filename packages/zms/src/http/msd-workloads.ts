/**
 * The reads of Athenz's MSD that Athenz's own UI makes for its Instances tab
 * (`/msd/v1`, msd.rdl's getWorkloadsByDomainAndService and the bulk
 * getWorkloadsByDomainAndService POST): Tessera has no MSD, so they answer
 * the domain's dynamic workloads from ZTS's certificate records and no
 * static workloads. Any authenticated caller may read them, as the ZMS
 * instances extension.
 */
import type { FastifyInstance } from 'fastify';
import { domainData } from '../domain-read.ts';
import { getService } from '../services.ts';
import { dynamicWorkloads } from '../instances.ts';
import { callerOf, names } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

type BulkRequest = { domainServices: { domainName: string; serviceNames: string[] }[]; fetchDynamicTypeWorkloads?: boolean };

export async function msdWorkloadRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;
  app.addHook('onRequest', auth.authenticate);

  app.get('/domain/:domain/service/:service/workloads', { schema: { operationId: 'getWorkloadsByService', tags: ['msd'], summary: 'Athenz MSD: a service\'s dynamic workloads (ZTS\'s instances)', params: S.params({ domain: S.domainName, service: S.simpleName }), response: { 200: S.Workloads, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const service = names(req).service();
    getService(ctx, domain, service);
    const list = await dynamicWorkloads(ctx, domain, [service]);
    return { workloadList: list, dynamicWorkloadList: list };
  });

  app.post('/workloads', { schema: { operationId: 'getWorkloadsByDomainAndService', tags: ['msd'], summary: 'Athenz MSD: dynamic workloads of services grouped by domain (ZTS\'s instances); no static workloads', body: S.BulkWorkloadRequest, response: { 200: S.BulkWorkloadResponse, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const body = req.body as BulkRequest;
    const list = [];
    if (body.fetchDynamicTypeWorkloads !== false) {
      for (const { domainName, serviceNames } of body.domainServices) {
        // A domain this ZMS does not have has no workloads (as MSD, which answers an empty list).
        if (!ctx.snapshots.summary(domainName.toLowerCase())) continue;
        list.push(...(await dynamicWorkloads(ctx, domainName.toLowerCase(), serviceNames.map((s) => s.toLowerCase()))));
      }
    }
    return { unmodifiedServices: [], workloads: { workloadList: list, dynamicWorkloadList: list, staticWorkloadList: [] } };
  });
}
