/** Domain meta: putDomainMeta and putDomainSystemMeta. */
import type { FastifyInstance } from 'fastify';
import { authorize } from '../authorize.ts';
import { asBody } from '../body.ts';
import { putDomainMeta, putDomainSystemMeta } from '../domain-meta.ts';
import { domainData } from '../domain-read.ts';
import { actorOf, names } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

export async function metaRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  app.put('/domain/:domain/meta', { schema: { operationId: 'putDomainMeta', tags: ['meta'], params: S.params({ domain: S.domainName }), body: S.DomainMeta, response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    authorize(ctx, 'putDomainMeta', a.principal, 'update', `${domain}:`);
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
