/**
 * The ZMS REST API under /zms/v1, with Athenz's paths, JSON and status codes:
 * one plugin per resource, each that resource's part of Athenz's RDL.
 * Writes are authorized before their handler, from one table
 * (authorization.ts); reads need an authenticated caller.
 */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { ZmsRouteDeps } from './deps.ts';
import { usersAndSessionsRoutes } from './users-and-sessions.ts';
import { domainsRoutes } from './domains.ts';
import { metaRoutes } from './meta.ts';
import { servicesRoutes } from './services.ts';
import { rolesRoutes } from './roles.ts';
import { policiesRoutes } from './policies.ts';
import { templatesRoutes } from './templates.ts';
import { accessRoutes } from './access.ts';
import { signedDataRoutes } from './signed-data.ts';
import { historyRoutes } from './history.ts';
import { instancesRoutes } from './instances.ts';
import { statusRoutes } from './status.ts';
import { pendingAndReviewRoutes } from './pending-and-reviews.ts';
import { authorizeWrites } from './authorization.ts';

export type { ZmsRouteDeps } from './deps.ts';

const PLUGINS = [
  usersAndSessionsRoutes,
  domainsRoutes,
  metaRoutes,
  servicesRoutes,
  rolesRoutes,
  policiesRoutes,
  templatesRoutes,
  accessRoutes,
  signedDataRoutes,
  historyRoutes,
  instancesRoutes,
  statusRoutes,
  pendingAndReviewRoutes,
];

export async function zmsRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  // Every route's schema, served as OpenAPI so any OpenAPI tool can generate a client.
  await app.register(swagger, {
    openapi: { info: { title: 'Tessera ZMS (Athenz ZMS API)', version: '1' }, servers: [{ url: '/' }] },
  });
  // Credentials are checked once per request; routes read the outcome.
  app.addHook('onRequest', deps.auth.authenticate);
  // A domain just created through another worker or replica may not be in this process's
  // snapshot yet (it polls every second): look in the store before answering "not found".
  app.addHook('preHandler', async (req) => {
    const domain = (req.params as { domain?: string } | undefined)?.domain?.toLowerCase();
    if (domain && !deps.ctx.snapshots.get(domain)) await deps.ctx.snapshots.refresh(domain);
  });
  // Who may make each write: one table (authorization.ts), checked before the handler.
  app.addHook('preHandler', authorizeWrites(deps.ctx, deps.auth));
  for (const plugin of PLUGINS) await app.register(async (scope) => plugin(scope, deps));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
