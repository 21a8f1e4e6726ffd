/** Tessera extension: a service's instances (ZTS certificate records), and revoking one. */
import type { FastifyInstance } from 'fastify';
import { validName } from '@tessera/core/names';
import { domainData } from '../domain-read.ts';
import { getService } from '../services.ts';
import { listInstances, revokeInstance, serviceStatus } from '../instances.ts';
import { callerOf, names, type Params } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

export async function instancesRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  app.get('/domain/:domain/service/:service/instances', { schema: { operationId: 'getServiceInstances', tags: ['instances'], summary: 'Tessera extension: the service\'s instances (certificate records)', params: S.params({ domain: S.domainName, service: S.simpleName }), response: { 200: S.Instances, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const service = names(req).service();
    getService(ctx, domain, service);
    return listInstances(ctx, domain, service);
  });

  // Per service: instance count, newest certificate and the last refused register/refresh, for the Services tab.
  app.get('/domain/:domain/service-status', { schema: { operationId: 'getServiceStatus', tags: ['instances'], summary: 'Tessera extension: instance counts and the last refused registration per service', params: S.params({ domain: S.domainName }), response: { 200: S.ServiceStatus, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    return serviceStatus(ctx, domainData(ctx, names(req).domain()));
  });

  app.delete('/domain/:domain/service/:service/instance/:provider/:instanceId', { schema: { operationId: 'revokeInstance', tags: ['instances'], summary: 'Tessera extension: revoke an instance', params: S.params({ domain: S.domainName, service: S.simpleName, provider: S.serviceName, instanceId: S.anyString(256) }), response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const domain = names(req).domain();
    const service = names(req).service();
    domainData(ctx, domain);
    const p = req.params as Params;
    await revokeInstance(ctx, domain, service, validName('service', 'provider', p.provider), p.instanceId);
    return reply.code(204).send();
  });
}
