/** Domain meta: putDomainMeta, putDomainSystemMeta, and the valid values of meta attributes. */
import type { FastifyInstance } from 'fastify';
import { asBody } from '../body.ts';
import { putDomainMeta, putDomainSystemMeta } from '../domain-meta.ts';
import { domainData } from '../domain-read.ts';
import { badRequest } from '@tessera/core/errors';
import { actorOf, callerOf, names, queryOf } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

/** The attributes Athenz's domain meta store answers for (DomainMetaStore.META_ATTR_*). */
const META_STORE_ATTRIBUTES = ['businessService', 'awsAccount', 'azureSubscription', 'gcpProject', 'productNumber', 'productId', 'onCall'];

export async function metaRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  // Athenz asks an external meta store which values an attribute may take (the UI offers them in
  // pick lists). Tessera keeps no such lists: every known attribute takes any value, so none are listed.
  // (A static path: the router matches it before /domain/{name}.)
  app.get('/domain/metastore', { schema: { operationId: 'getDomainMetaStoreValidValuesList', tags: ['meta'], querystring: S.query({ attribute: S.anyString(S.LIMITS.simple), user: S.anyString(S.LIMITS.member) }), response: { 200: S.DomainMetaStoreValidValuesList, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const attribute = queryOf(req).attribute;
    if (!attribute) throw badRequest(`getDomainMetaStoreValidValuesList: attributeName is mandatory: add ?attribute=<one of ${META_STORE_ATTRIBUTES.join(', ')}>`);
    if (!META_STORE_ATTRIBUTES.includes(attribute)) throw badRequest(`getDomainMetaStoreValidValuesList: Invalid attribute: ${attribute} (known: ${META_STORE_ATTRIBUTES.join(', ')})`);
    return { validValues: [] };
  });

  app.put('/domain/:domain/meta', { schema: { operationId: 'putDomainMeta', tags: ['meta'], params: S.params({ domain: S.domainName }), body: S.DomainMeta, response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    await putDomainMeta(ctx, a, domain, asBody(req.body));
    return reply.code(204).send();
  });

  app.put('/domain/:domain/meta/system/:attribute', { schema: { operationId: 'putDomainSystemMeta', tags: ['meta'], params: S.params({ domain: S.domainName, attribute: S.simpleName }), body: S.DomainMeta, response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    await putDomainSystemMeta(ctx, a, domain, names(req).simple('attribute', 'attribute').toLowerCase(), asBody(req.body));
    return reply.code(204).send();
  });
}
