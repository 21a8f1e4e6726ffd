/** Service identities and their public keys: getServiceIdentityList, getServiceIdentities, get/put/deleteServiceIdentity, *PublicKeyEntry, putServiceIdentitySystemMeta. */
import type { FastifyInstance } from 'fastify';
import { notFound } from '@tessera/core/errors';
import { serviceResourceName } from '@tessera/core/names';
import { authorize } from '../authorize.ts';
import { domainData } from '../domain-read.ts';
import { deletePublicKey, deleteService, getService, putPublicKey, putService, putServiceSystemMeta } from '../services.ts';
import { actorOf, callerOf, names, queryOf, sendStored } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';

export async function servicesRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  app.get('/domain/:domain/service', async (req) => {
    callerOf(auth, req);
    return { names: domainData(ctx, names(req).domain()).services.map((s) => s.name.slice(s.name.lastIndexOf('.') + 1)) };
  });

  app.get('/domain/:domain/services', async (req) => {
    callerOf(auth, req);
    const list = domainData(ctx, names(req).domain()).services;
    return { list: queryOf(req).publickeys === 'false' ? list.map(({ publicKeys: _k, ...s }) => s) : list };
  });

  app.get('/domain/:domain/service/:service', async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    return getService(ctx, domain, names(req).service());
  });

  app.put('/domain/:domain/service/:service', async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const service = names(req).service();
    domainData(ctx, domain);
    authorize(ctx, 'putServiceIdentity', a.principal, 'update', serviceResourceName(domain, service));
    await putService(ctx, a, domain, service, req.body);
    return sendStored(req, reply, () => getService(ctx, domain, service));
  });

  app.delete('/domain/:domain/service/:service', async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const service = names(req).service();
    domainData(ctx, domain);
    authorize(ctx, 'deleteServiceIdentity', a.principal, 'delete', serviceResourceName(domain, service));
    await deleteService(ctx, a, domain, service);
    return reply.code(204).send();
  });

  app.get('/domain/:domain/service/:service/publickey/:id', async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const id = names(req).simple('id', 'public key id');
    const key = getService(ctx, domain, names(req).service()).publicKeys?.find((k) => k.id === id);
    if (!key) throw notFound(`getPublicKeyEntry: no public key ${id}`);
    return key;
  });

  app.put('/domain/:domain/service/:service/publickey/:id', async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const service = names(req).service();
    domainData(ctx, domain);
    authorize(ctx, 'putPublicKeyEntry', a.principal, 'update', serviceResourceName(domain, service));
    await putPublicKey(ctx, a, domain, service, names(req).simple('id', 'public key id'), req.body);
    return reply.code(204).send();
  });

  app.delete('/domain/:domain/service/:service/publickey/:id', async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    const service = names(req).service();
    domainData(ctx, domain);
    authorize(ctx, 'deletePublicKeyEntry', a.principal, 'update', serviceResourceName(domain, service));
    await deletePublicKey(ctx, a, domain, service, names(req).simple('id', 'public key id'));
    return reply.code(204).send();
  });

  app.put('/domain/:domain/service/:service/meta/system/:attribute', async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    await putServiceSystemMeta(ctx, a, domain, names(req).service(), names(req).simple('attribute', 'attribute').toLowerCase(), req.body);
    return reply.code(204).send();
  });
}
