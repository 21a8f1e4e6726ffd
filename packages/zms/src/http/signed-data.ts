/** Signed data, the change feed ZTS follows: getSignedDomains (/sys/modified_domains) and getJWSDomain (/domain/{d}/signed). */
import type { FastifyInstance } from 'fastify';
import { badRequest } from '@tessera/core/errors';
import { domainData } from '../domain-read.ts';
import { jwsDomain, metaOnly, modifiedDomains, signedDomain } from '../signed-domains.ts';
import { callerOf, names, queryOf } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

export async function signedDataRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth, signingKey } = deps;
  // Answers are built from the snapshot only: keep them, serialized, until the snapshot changes
  // (signing every domain, and writing 100k of them as JSON, is the cost).
  let cacheVersion = -1;
  const cache = new Map<string, { etag: string; count: number; json: string }>();
  const cached = (key: string, build: () => { etag: string; domains: unknown[] }) => {
    if (cacheVersion !== ctx.snapshots.version) {
      cache.clear();
      cacheVersion = ctx.snapshots.version;
    }
    let hit = cache.get(key);
    if (!hit) {
      const { etag, domains } = build();
      hit = { etag, count: domains.length, json: JSON.stringify({ domains }) };
      if (cache.size >= 100) cache.clear();
      cache.set(key, hit);
    }
    return hit;
  };

  app.get('/sys/modified_domains', { schema: { operationId: 'getSignedDomains', tags: ['signed data'], querystring: S.query({ domain: S.anyString(), metaonly: S.boolString, metaattr: S.anyString(), master: S.boolString, conditions: S.boolString }), response: { 200: S.SignedDomains, ...S.errors } } }, async (req, reply) => {
    const who = callerOf(auth, req);
    const q = queryOf(req);
    const since = (req.headers['if-none-match'] ?? '').replace(/"/g, '') || undefined;
    const meta = q.metaonly === 'true';
    if (q.domain) {
      const d = ctx.snapshots.get(q.domain.toLowerCase());
      if (!d) return { domains: [] };
      if (since && since >= d.modified) return reply.code(304).header('ETag', `"${since}"`).send();
      reply.header('ETag', `"${d.modified}"`);
      const { json } = cached(`domain|${d.name}|${meta}`, () => ({ etag: d.modified, domains: [meta ? metaOnly(d) : signedDomain(signingKey, d)] }));
      return reply.type('application/json').send(json);
    }
    if (!meta && !(who.startsWith('sys.') && q.master === 'true')) {
      throw badRequest('getSignedDomains: full domain data for all domains needs metaonly=true (or a sys.* principal with master=true)');
    }
    const { etag, count, json } = cached(`all|${since ?? ''}|${meta}`, () => {
      const changed = modifiedDomains(ctx, since);
      return { etag: changed.etag, domains: changed.domains.map((d) => (meta ? metaOnly(d) : signedDomain(signingKey, ctx.snapshots.get(d.name)!))) };
    });
    if (since && count === 0) return reply.code(304).header('ETag', `"${etag}"`).send();
    reply.header('ETag', `"${etag}"`);
    return reply.type('application/json').send(json);
  });

  app.get('/domain/:domain/signed', { schema: { operationId: 'getJWSDomain', tags: ['signed data'], params: S.params({ domain: S.domainName }), querystring: S.query({ signaturep1363format: S.boolString }), response: { 200: S.JWSDomain, ...S.errors } } }, async (req, reply) => {
    callerOf(auth, req);
    const d = domainData(ctx, names(req).domain());
    const since = (req.headers['if-none-match'] ?? '').replace(/"/g, '');
    if (since && since >= d.modified) return reply.code(304).header('ETag', `"${since}"`).send();
    reply.header('ETag', `"${d.modified}"`);
    return jwsDomain(signingKey, d, queryOf(req).signaturep1363format === 'true');
  });
}
