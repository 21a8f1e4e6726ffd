/** The ZTS REST API under /zts/v1, with Athenz's paths, JSON and status codes. Callers authenticate with client certificates. */
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, notFound } from '@tessera/core/errors';
import { parseCertificate, type CertificateInfo } from '@tessera/core/x509/certificate';
import { tlsPrincipal } from '@tessera/core/x509/tls-principal';
import type { Caller, ZtsContext } from '../context.ts';
import { checkInstanceRegister, registerInstance } from '../instance-register.ts';
import { refreshInstance } from '../instance-refresh.ts';
import { deleteInstance } from '../instance-delete.ts';
import { issueRoleCertificate } from '../role-certificate.ts';

type Params = Record<string, string>;

// Parsing a certificate costs about 2 ms: read the client certificate once per TLS connection (while it stays the same).
const peerCerts = new WeakMap<TLSSocket, { raw: Buffer; info: CertificateInfo }>();

function peerCertificate(socket: TLSSocket): CertificateInfo | undefined {
  const raw = socket.getPeerCertificate()?.raw;
  if (!raw) return undefined;
  const cached = peerCerts.get(socket);
  if (cached?.raw.equals(raw)) return cached.info;
  const info = parseCertificate(new X509Certificate(raw).toString());
  peerCerts.set(socket, { raw, info });
  return info;
}

function callerOf(req: FastifyRequest): Caller {
  const socket = req.raw.socket as TLSSocket;
  const principal = tlsPrincipal(socket);
  const cert = principal ? peerCertificate(socket) : undefined;
  return {
    ...(principal ? { principal } : {}),
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

export async function ztsRoutes(app: FastifyInstance, ctx: ZtsContext): Promise<void> {
  app.post('/instance', async (req, reply) => {
    // Tessera extension for `siad -cmd diagnose`: every check of a register, nothing signed or recorded.
    if (req.headers['tessera-check-only'] === 'true') return reply.code(200).send(await checkInstanceRegister(ctx, callerOf(req), body(req)));
    const identity = await registerInstance(ctx, callerOf(req), body(req));
    reply.header('Location', `/zts/v1/instance/${identity.provider}/${identity.name.slice(0, identity.name.lastIndexOf('.'))}/${identity.name.slice(identity.name.lastIndexOf('.') + 1)}/${identity.instanceId}`);
    return reply.code(201).send(identity);
  });

  app.post('/instance/:provider/:domain/:service/:instanceId', async (req) => {
    return refreshInstance(ctx, callerOf(req), req.params as Params as never, body(req));
  });

  app.delete('/instance/:provider/:domain/:service/:instanceId', async (req, reply) => {
    await deleteInstance(ctx, callerOf(req), req.params as Params as never);
    return reply.code(204).send();
  });

  app.post('/rolecert', async (req) => {
    const { certPem } = await issueRoleCertificate(ctx, callerOf(req), body(req));
    return { x509Certificate: certPem };
  });

  app.post('/domain/:domain/role/:role/token', async (req) => {
    const p = req.params as Params;
    const { certPem, notAfter } = await issueRoleCertificate(ctx, callerOf(req), body(req), {
      domain: p.domain.toLowerCase(),
      role: p.role.toLowerCase(),
    });
    return { token: certPem, expiryTime: Math.floor(notAfter.getTime() / 1000) };
  });

  app.get('/cacerts/:name', async (req) => {
    const name = (req.params as Params).name;
    if (name !== 'athenz') throw notFound(`getCertificateAuthorityBundle: No such bundle: ${name} (available: athenz)`);
    return { name, certs: ctx.signer.caBundlePem() };
  });

  app.get('/status', async () => ({ code: 200, message: 'OK' }));
}
