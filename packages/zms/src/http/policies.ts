/** Policies and assertions: getPolicyList, getPolicies, getPolicy, putPolicy, deletePolicy, getAssertion, putAssertion, deleteAssertion. */
import type { FastifyInstance } from 'fastify';
import { notFound } from '@tessera/core/errors';
import { domainData, shortName } from '../domain-read.ts';
import { deleteAssertion, deletePolicy, getPolicy, parseAssertionId, putAssertion, putPolicy } from '../policies.ts';
import { actorOf, callerOf, names, queryOf, sendStored, type Params } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

export async function policiesRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  app.get('/domain/:domain/policy', { schema: { operationId: 'getPolicyList', tags: ['policies'], params: S.params({ domain: S.domainName }), querystring: S.query({ limit: S.intString, skip: S.anyString() }), response: { 200: S.PolicyList, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    return { names: domainData(ctx, names(req).domain()).policies.contents.policies.map((p) => shortName(p.name)) };
  });

  app.get('/domain/:domain/policies', { schema: { operationId: 'getPolicies', tags: ['policies'], params: S.params({ domain: S.domainName }), querystring: S.query({ assertions: S.boolString, includeNonActive: S.boolString, tagKey: S.anyString(), tagValue: S.anyString() }), response: { 200: S.Policies, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const list = domainData(ctx, names(req).domain()).policies.contents.policies;
    return { list: queryOf(req).assertions === 'false' ? list.map(({ assertions: _a, ...p }) => ({ ...p, assertions: [] })) : list };
  });

  app.get('/domain/:domain/policy/:policy', { schema: { operationId: 'getPolicy', tags: ['policies'], params: S.params({ domain: S.domainName, policy: S.entityName }), response: { 200: S.Policy, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    return getPolicy(ctx, domain, names(req).policy());
  });

  app.put('/domain/:domain/policy/:policy', { schema: { operationId: 'putPolicy', tags: ['policies'], params: S.params({ domain: S.domainName, policy: S.entityName }), body: S.Policy, response: { 200: S.Policy, ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const policy = names(req).policy();
    domainData(ctx, domain);
    await putPolicy(ctx, a, domain, policy, req.body);
    return sendStored(req, reply, () => getPolicy(ctx, domain, policy));
  });

  app.delete('/domain/:domain/policy/:policy', { schema: { operationId: 'deletePolicy', tags: ['policies'], params: S.params({ domain: S.domainName, policy: S.entityName }), response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const policy = names(req).policy();
    domainData(ctx, domain);
    await deletePolicy(ctx, a, domain, policy);
    return reply.code(204).send();
  });

  app.get('/domain/:domain/policy/:policy/assertion/:id', { schema: { operationId: 'getAssertion', tags: ['policies'], params: S.params({ domain: S.domainName, policy: S.entityName, id: S.idString }), response: { 200: S.Assertion, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const id = parseAssertionId((req.params as Params).id);
    const found = getPolicy(ctx, domain, names(req).policy()).assertions.find((x) => x.id === id);
    if (!found) throw notFound(`getAssertion: Assertion not found: ${id}`);
    return found;
  });

  app.put('/domain/:domain/policy/:policy/assertion', { schema: { operationId: 'putAssertion', tags: ['policies'], params: S.params({ domain: S.domainName, policy: S.entityName }), body: S.Assertion, response: { 200: S.Assertion, ...S.errors } } }, async (req) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const policy = names(req).policy();
    domainData(ctx, domain);
    return putAssertion(ctx, a, domain, policy, req.body);
  });

  app.delete('/domain/:domain/policy/:policy/assertion/:id', { schema: { operationId: 'deleteAssertion', tags: ['policies'], params: S.params({ domain: S.domainName, policy: S.entityName, id: S.idString }), response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const policy = names(req).policy();
    domainData(ctx, domain);
    await deleteAssertion(ctx, a, domain, policy, parseAssertionId((req.params as Params).id));
    return reply.code(204).send();
  });
}
