/** Signed data, the change feed ZTS follows: getSignedDomains (/sys/modified_domains) and getJWSDomain (/domain/{d}/signed). */
import type { FastifyInstance } from 'fastify';
import { badRequest } from '@tessera/core/errors';
import { domainData } from '../domain-read.ts';
import { modifiedDomains, signDomain } from '../signed-domains.ts';
import { callerOf, names, queryOf } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

export async function signedDataRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  app.get('/sys/modified_domains', { schema: { operationId: 'getSignedDomains', tags: ['signed data'], querystring: S.query({ domain: S.anyString(), metaonly: S.boolString, metaattr: S.anyString(), master: S.boolString, conditions: S.boolString }), response: { 200: S.SignedDomains, ...S.errors } } }, async (req, reply) => {
    const who = callerOf(auth, req);
    const q = queryOf(req);
    const since = (req.headers['if-none-match'] ?? '').replace(/"/g, '') || undefined;
    if (q.domain) {
      const d = ctx.snapshots.get(q.domain.toLowerCase());
      if (!d) return { domains: [] };
      if (since && since >= d.modified) return reply.code(304).header('ETag', `"${since}"`).send();
      reply.header('ETag', `"${d.modified}"`);
      return { domains: [{ domain: q.metaonly === 'true' ? { name: d.name, modified: d.modified, enabled: d.enabled !== false } : d }] };
    }
    if (q.metaonly !== 'true' && !(who.startsWith('sys.') && q.master === 'true')) {
      throw badRequest('getSignedDomains: full domain data for all domains needs metaonly=true (or a sys.* principal with master=true)');
    }
    const { etag, domains } = modifiedDomains(ctx, since);
    if (since && domains.length === 0) return reply.code(304).header('ETag', `"${etag}"`).send();
    reply.header('ETag', `"${etag}"`);
    return { domains: q.metaonly === 'true' ? domains : domains.map((d) => ({ domain: ctx.snapshots.get(d.domain.name) })) };
  });

  app.get('/domain/:domain/signed', { schema: { operationId: 'getJWSDomain', tags: ['signed data'], params: S.params({ domain: S.domainName }), querystring: S.query({ signaturep1363format: S.boolString }), response: { 200: S.JWSDomain, ...S.errors } } }, async (req, reply) => {
    callerOf(auth, req);
    const d = domainData(ctx, names(req).domain());
    const since = (req.headers['if-none-match'] ?? '').replace(/"/g, '');
    if (since && since >= d.modified) return reply.code(304).header('ETag', `"${since}"`).send();
    reply.header('ETag', `"${d.modified}"`);
    return signDomain(deps.signingKey, d);
  });
}
