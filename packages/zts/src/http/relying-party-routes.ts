/**
 * What ZTS offers the services that receive calls (relying parties), under
 * /zts/v1 with Athenz's paths: OAuth2 access tokens and their keys, the
 * OpenID discovery documents, role tokens, service and public key reads, the
 * CRL, and the server status.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { ApiError, badRequest, notFound, unauthorized } from '@tessera/core/errors';
import { isDomainName, isSimpleName } from '@tessera/core/names';
import { serialKey } from '@tessera/core/x509/serial';
import { tlsPeer, tlsPrincipal } from '@tessera/core/x509/tls-principal';
import type { ZtsContext } from '../context.ts';
import { issueAccessToken, type TokenCaller } from '../tokens/access-token.ts';
import { invalidRequest, oauthErrorBody } from '../tokens/oauth-error.ts';
import { jwkList } from '../tokens/token-keys.ts';
import { issueRoleToken } from '../tokens/role-token.ts';
import { authHint, tokenPrincipal } from '../principal-token-auth.ts';

type Params = Record<string, string>;
type Query = Record<string, string | undefined>;

/** The verified client certificate's CN, hash and serial (read once per TLS connection), else the user of a principal token. */
async function tokenCaller(ctx: ZtsContext, req: FastifyRequest): Promise<TokenCaller & { ip: string }> {
  const { principal, certificate, thumbprint } = tlsPeer(req.raw.socket as TLSSocket);
  if (!principal || !certificate || !thumbprint) {
    const user = await tokenPrincipal(ctx, req);
    return user ? { principal: user, ip: req.ip } : { ip: req.ip };
  }
  return { principal, certThumbprint: thumbprint, certSerial: serialKey(certificate.serialHex), ip: req.ip };
}

function name(kind: 'domain' | 'service', value: string): string {
  const v = value.toLowerCase();
  if (!(kind === 'domain' ? isDomainName(v) : isSimpleName(v))) throw badRequest(`Invalid ${kind} name: ${value}`);
  return v;
}

/** The token endpoint in its own scope: a form parser and RFC 6749 error bodies apply to it alone. */
async function tokenEndpoint(app: FastifyInstance, ctx: ZtsContext): Promise<void> {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
  app.setErrorHandler((error, req, reply) => {
    const { status, body } = oauthErrorBody(error);
    if (status >= 500) req.log.error({ err: error }, 'token request failed');
    // RFC 6749 5.1/5.2: token responses are never cached.
    return reply.code(status).header('cache-control', 'no-store').send(body);
  });
  app.post('/oauth2/token', async (req, reply) => {
    if (typeof req.body !== 'string') {
      throw invalidRequest('Send the token request as application/x-www-form-urlencoded, e.g. grant_type=client_credentials&scope=sports:domain');
    }
    if (req.body.trim() === '') throw invalidRequest('Empty request body: send grant_type=client_credentials&scope=<domain>:domain');
    const res = await issueAccessToken(ctx, await tokenCaller(ctx, req), new URLSearchParams(req.body));
    return reply.header('cache-control', 'no-store').send(res);
  });
}

export async function relyingPartyRoutes(app: FastifyInstance, ctx: ZtsContext): Promise<void> {
  await app.register(async (scoped) => tokenEndpoint(scoped, ctx));

  app.get('/oauth2/keys', async (req) => {
    const q = req.query as Query;
    if (q.service && q.service !== 'zts') throw notFound(`getJWKList: no keys for service ${q.service} (this server publishes the zts keys)`);
    return jwkList(ctx.tokenKeys, q.rfc === 'true');
  });

  const issuer = () => ctx.config.tokenIssuer ?? '';
  const algs = () => [...new Set(ctx.tokenKeys.published.map((k) => k.alg))];
  app.get('/.well-known/openid-configuration', async () => ({
    issuer: issuer(),
    authorization_endpoint: `${issuer()}/oauth2/auth`,
    token_endpoint: `${issuer()}/oauth2/token`,
    jwks_uri: `${issuer()}/oauth2/keys?rfc=true`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: algs(),
  }));
  app.get('/.well-known/oauth-authorization-server', async () => ({
    issuer: issuer(),
    authorization_endpoint: `${issuer()}/oauth2/auth`,
    token_endpoint: `${issuer()}/oauth2/token`,
    jwks_uri: `${issuer()}/oauth2/keys?rfc=true`,
    response_types_supported: ['token', 'id_token token'],
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_signing_alg_values_supported: algs(),
  }));

  app.get('/domain/:domain/token', async (req) => {
    const caller = await tokenCaller(ctx, req);
    if (!caller.principal) throw unauthorized(`getRoleToken: authentication required: ${authHint(ctx)}`);
    return issueRoleToken(ctx, caller, name('domain', (req.params as Params).domain), req.query as Query);
  });

  // Service reads from the domain snapshots, as Athenz's ZTS (authenticated callers only).
  const domainData = async (req: FastifyRequest) => {
    if (!tlsPrincipal(req.raw.socket as TLSSocket) && !(await tokenPrincipal(ctx, req))) throw unauthorized(`Authentication required: ${authHint(ctx)}`);
    const d = name('domain', (req.params as Params).domain);
    const data = ctx.snapshots.get(d);
    if (!data) throw notFound(`Domain not found: '${d}'`);
    return data;
  };
  const findService = async (req: FastifyRequest) => {
    const data = await domainData(req);
    const full = `${data.name}.${name('service', (req.params as Params).service)}`;
    const svc = data.services.find((s) => s.name === full);
    if (!svc) throw notFound(`Service not found: '${full}'`);
    return svc;
  };
  app.get('/domain/:domain/service', async (req) => {
    const data = await domainData(req);
    return { names: data.services.map((s) => s.name.slice(data.name.length + 1)) };
  });
  app.get('/domain/:domain/service/:service', async (req) => findService(req));
  app.get('/domain/:domain/service/:service/publickey/:keyId', async (req) => {
    const keyId = (req.params as Params).keyId.toLowerCase();
    const key = (await findService(req)).publicKeys?.find((k) => k.id.toLowerCase() === keyId);
    if (!key) throw notFound('Public Key not found');
    return { id: key.id, key: key.key };
  });

  // The CRL: DER by default, PEM on request.
  app.get('/crl', async (req, reply) => {
    const crl = await ctx.revocations.current();
    const q = req.query as Query;
    const pem = q.format === 'pem' || /application\/x-pem-file/.test(req.headers.accept ?? '');
    // A short max-age: a new revocation should reach caches within a minute.
    reply.header('cache-control', 'public, max-age=60').header('last-modified', crl.thisUpdate.toUTCString());
    if (pem) {
      const b64 = crl.der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
      return reply.type('application/x-pem-file').send(`-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`);
    }
    return reply.type('application/pkix-crl').send(crl.der);
  });

  // Athenz's status: OK when the store answers; a store outage is a 503 with a hint when to retry.
  app.get('/status', async (req, reply) => {
    try {
      await sql`select 1`.execute(ctx.db);
    } catch (e) {
      req.log.warn(`status: database unreachable: ${(e as Error).message}`);
      reply.header('retry-after', '30');
      throw new ApiError(503, 'Error - database unavailable; retry later');
    }
    return { code: 200, message: 'OK' };
  });
}
