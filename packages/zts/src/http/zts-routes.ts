/** The ZTS REST API under /zts/v1, with Athenz's paths, JSON and status codes. Callers authenticate with client certificates. */
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { ztsSchemas } from './zts-schemas.ts';
import { ApiError, badRequest, notFound } from '@tessera/core/errors';
import { missingPrincipalReason, tlsPeerCertificate, tlsPrincipal } from '@tessera/core/x509/tls-principal';
import type { Caller, ZtsContext } from '../context.ts';
import { checkInstanceRegister, registerInstance } from '../instance-register.ts';
import { refreshInstance } from '../instance-refresh.ts';
import { deleteInstance } from '../instance-delete.ts';
import { issueRoleCertificate } from '../role-certificate.ts';
import { issueJwtSvid, issueSvid } from '../svid-certificate.ts';
import { relyingPartyRoutes } from './relying-party-routes.ts';
import { recordRefusal } from '../instance-events.ts';
import { tokenPrincipal } from '../principal-token-auth.ts';

type Params = Record<string, string>;

function callerOf(req: FastifyRequest): Caller {
  const socket = req.raw.socket as TLSSocket;
  const principal = tlsPrincipal(socket);
  // Read once per TLS connection (keep-alive clients send many requests on one).
  const cert = principal ? tlsPeerCertificate(socket) : undefined;
  return {
    ...(principal ? { principal } : { noPrincipal: () => missingPrincipalReason(socket) }),
    ...(cert ? { cert } : {}),
    ip: req.ip,
    ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
  };
}

function body(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw badRequest('Request body must be a JSON object');
  return b as Record<string, unknown>;
}

/** Runs a register or refresh; a refusal is kept as the service's last failure (GET /zms/v1/domain/{d}/service-status). */
async function recordingRefusal<T>(
  ctx: ZtsContext,
  req: FastifyRequest,
  names: Record<string, unknown>,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof ApiError) {
      const { domain, service, provider } = names;
      // The refusal is the answer; failing to note it must not change that answer.
      await recordRefusal(ctx, { domain, service, provider, error: e, clientIp: req.ip }).catch((err: unknown) =>
        req.log.error({ err }, 'could not record the refused registration'),
      );
    }
    throw e;
  }
}

export async function ztsRoutes(app: FastifyInstance, ctx: ZtsContext): Promise<void> {
  // Route schemas (zts-schemas.ts), served as OpenAPI.
  await app.register(swagger, { openapi: { info: { title: 'Tessera ZTS (Athenz ZTS API)', version: '1' } } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.post('/instance', { schema: ztsSchemas.postInstanceRegisterInformation }, async (req, reply) => {
    const b = body(req);
    // Tessera extension for `siad -cmd diagnose`: every check of a register, nothing signed or recorded.
    if (req.headers['tessera-check-only'] === 'true') {
      return reply.code(200).send(await recordingRefusal(ctx, req, b, () => checkInstanceRegister(ctx, callerOf(req), b)));
    }
    const identity = await recordingRefusal(ctx, req, b, () => registerInstance(ctx, callerOf(req), b, req.log));
    reply.header('Location', `/zts/v1/instance/${identity.provider}/${identity.name.slice(0, identity.name.lastIndexOf('.'))}/${identity.name.slice(identity.name.lastIndexOf('.') + 1)}/${identity.instanceId}`);
    return reply.code(201).send(identity);
  });

  app.post('/instance/:provider/:domain/:service/:instanceId', { schema: ztsSchemas.postInstanceRefreshInformation }, async (req) => {
    const p = req.params as Params;
    return recordingRefusal(ctx, req, p, () => refreshInstance(ctx, callerOf(req), p as never, body(req)));
  });

  app.delete('/instance/:provider/:domain/:service/:instanceId', { schema: ztsSchemas.deleteInstanceIdentity }, async (req, reply) => {
    // A domain admin may delete an instance with a user token (as Athenz's UI does), not only with a certificate.
    const caller = callerOf(req);
    const user = caller.principal ? undefined : await tokenPrincipal(ctx, req);
    await deleteInstance(ctx, user ? { ...caller, principal: user } : caller, req.params as Params as never);
    return reply.code(204).send();
  });

  app.post('/rolecert', { schema: ztsSchemas.postRoleCertificateRequestExt }, async (req) => {
    const { certPem } = await issueRoleCertificate(ctx, callerOf(req), body(req));
    return { x509Certificate: certPem };
  });

  app.post('/domain/:domain/role/:role/token', { schema: ztsSchemas.postRoleCertificateRequest }, async (req) => {
    const p = req.params as Params;
    const { certPem, notAfter } = await issueRoleCertificate(ctx, callerOf(req), body(req), {
      domain: p.domain.toLowerCase(),
      role: p.role.toLowerCase(),
    });
    return { token: certPem, expiryTime: Math.floor(notAfter.getTime() / 1000) };
  });

  // Tessera extension: the caller's identity as an X509-SVID (one URI SAN), for siad's SPIFFE Workload API.
  app.post('/svid', { schema: ztsSchemas.postSvidRequest }, async (req) => {
    const { certPem, spiffeId } = await issueSvid(ctx, callerOf(req), body(req));
    return { x509Certificate: certPem, spiffeId };
  });

  app.post('/svid/jwt', { schema: ztsSchemas.postJwtSvidRequest }, async (req) => issueJwtSvid(ctx, callerOf(req), body(req)));

  app.get('/cacerts/:name', { schema: ztsSchemas.getCertificateAuthorityBundle }, async (req) => {
    const name = (req.params as Params).name;
    if (name !== 'athenz') throw notFound(`getCertificateAuthorityBundle: No such bundle: ${name} (available: athenz)`);
    return { name, certs: ctx.signer.caBundlePem() };
  });

  // Tokens, keys, role tokens, service reads, the CRL and /status.
  await app.register(async (scoped) => relyingPartyRoutes(scoped, ctx));
}
