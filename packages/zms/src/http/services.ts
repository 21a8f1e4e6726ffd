/** Service identities and their public keys: getServiceIdentityList, getServiceIdentities, get/put/deleteServiceIdentity, *PublicKeyEntry, putServiceIdentitySystemMeta. */
import type { FastifyInstance } from 'fastify';
import { notFound } from '@tessera/core/errors';
import { domainData } from '../domain-read.ts';
import { deletePublicKey, deleteService, getService, putPublicKey, putService, putServiceSystemMeta } from '../services.ts';
import { actorOf, callerOf, names, queryOf, sendStored } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

export async function servicesRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  app.get('/domain/:domain/service', { schema: { operationId: 'getServiceIdentityList', tags: ['services'], params: S.params({ domain: S.domainName }), querystring: S.query({ limit: S.intString, skip: S.anyString() }), response: { 200: S.ServiceIdentityList, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    return { names: domainData(ctx, names(req).domain()).services.map((s) => s.name.slice(s.name.lastIndexOf('.') + 1)) };
  });

  app.get('/domain/:domain/services', { schema: { operationId: 'getServiceIdentities', tags: ['services'], params: S.params({ domain: S.domainName }), querystring: S.query({ publickeys: S.boolString, hosts: S.boolString, tagKey: S.anyString(), tagValue: S.anyString() }), response: { 200: S.ServiceIdentities, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const list = domainData(ctx, names(req).domain()).services;
    return { list: queryOf(req).publickeys === 'false' ? list.map(({ publicKeys: _k, ...s }) => s) : list, serviceMatchCount: list.length };
  });

  app.get('/domain/:domain/service/:service', { schema: { operationId: 'getServiceIdentity', tags: ['services'], params: S.params({ domain: S.domainName, service: S.simpleName }), response: { 200: S.ServiceIdentity, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    return getService(ctx, domain, names(req).service());
  });

  app.put('/domain/:domain/service/:service', { schema: { operationId: 'putServiceIdentity', tags: ['services'], params: S.params({ domain: S.domainName, service: S.simpleName }), body: S.ServiceIdentity, response: { 200: S.ServiceIdentity, ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const service = names(req).service();
    domainData(ctx, domain);
    await putService(ctx, a, domain, service, req.body);
    return sendStored(req, reply, () => getService(ctx, domain, service));
  });

  app.delete('/domain/:domain/service/:service', { schema: { operationId: 'deleteServiceIdentity', tags: ['services'], params: S.params({ domain: S.domainName, service: S.simpleName }), response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const service = names(req).service();
    domainData(ctx, domain);
    await deleteService(ctx, a, domain, service);
    return reply.code(204).send();
  });

  app.get('/domain/:domain/service/:service/publickey/:id', { schema: { operationId: 'getPublicKeyEntry', tags: ['services'], params: S.params({ domain: S.domainName, service: S.simpleName, id: S.simpleName }), response: { 200: S.PublicKeyEntry, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const id = names(req).simple('id', 'public key id');
    const key = getService(ctx, domain, names(req).service()).publicKeys?.find((k) => k.id === id);
    if (!key) throw notFound(`getPublicKeyEntry: no public key ${id}`);
    return key;
  });

  app.put('/domain/:domain/service/:service/publickey/:id', { schema: { operationId: 'putPublicKeyEntry', tags: ['services'], params: S.params({ domain: S.domainName, service: S.simpleName, id: S.simpleName }), body: S.PublicKeyEntry, response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const service = names(req).service();
    domainData(ctx, domain);
    await putPublicKey(ctx, a, domain, service, names(req).simple('id', 'public key id'), req.body);
    return reply.code(204).send();
  });

  app.delete('/domain/:domain/service/:service/publickey/:id', { schema: { operationId: 'deletePublicKeyEntry', tags: ['services'], params: S.params({ domain: S.domainName, service: S.simpleName, id: S.simpleName }), response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const service = names(req).service();
    domainData(ctx, domain);
    await deletePublicKey(ctx, a, domain, service, names(req).simple('id', 'public key id'));
    return reply.code(204).send();
  });

  app.put('/domain/:domain/service/:service/meta/system/:attribute', { schema: { operationId: 'putServiceIdentitySystemMeta', tags: ['services'], params: S.params({ domain: S.domainName, service: S.simpleName, attribute: S.simpleName }), body: S.ServiceIdentitySystemMeta, response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    await putServiceSystemMeta(ctx, a, domain, names(req).service(), names(req).simple('attribute', 'attribute').toLowerCase(), req.body);
    return reply.code(204).send();
  });
}
