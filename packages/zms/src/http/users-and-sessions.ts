/** Users and sessions: user tokens (Athenz's getUserToken), the principal, and Tessera's browser sessions and passwords. */
import type { FastifyInstance } from 'fastify';
import { badRequest, unauthorized } from '@tessera/core/errors';
import { isSystemAdmin } from '../authorize.ts';
import { asBody } from '../body.ts';
import { setPassword, validUserName } from '../users.ts';
import { clearSessionCookies, readCookies, SESSION_COOKIE, setSessionCookies } from '../auth/browser-session.ts';
import { bearerToken } from '../auth/authenticate.ts';
import { signIn } from '../auth/sign-in.ts';
import { revokeToken } from '@tessera/store/revoked-tokens';
import { callerOf, queryOf, type Params } from './request.ts';
import { loginCorsHeaders, loginPreflight, requestedServices } from './login-cors.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

const PRINCIPAL_AUTH_HEADER = 'Athenz-Principal-Auth';

export async function usersAndSessionsRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  const tokenQuery = S.query({ services: S.anyString(), header: S.boolString });
  const tokenParams = S.params({ name: S.anyString(S.LIMITS.member) });
  // The browser's preflight for Athenz UI's login; CORS on this path only.
  app.options('/user/:name/token', { schema: { operationId: 'optionsUserToken', tags: ['users'], params: tokenParams, querystring: tokenQuery, response: { ...S.noContent, ...S.errors } } }, loginPreflight(ctx.config.corsOrigins, ctx.config.authorizedServices));
  app.get('/user/:name/token', { onSend: loginCorsHeaders(ctx.config.corsOrigins), schema: { operationId: 'getUserToken', tags: ['users'], params: tokenParams, querystring: tokenQuery, response: { 200: S.UserToken, ...S.errors } } }, async (req) => {
    // `services` (Athenz's authorized services) become the token's b=: checked before the password is.
    const services = requestedServices(queryOf(req).services, ctx.config.authorizedServices, 'getUserToken', 401);
    const header = req.headers.authorization ?? '';
    const failed = () => unauthorized('Invalid user name or password');
    if (!header.startsWith('Basic ')) throw unauthorized('Send the user name and password with HTTP Basic authentication');
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw failed();
    const { principal, tokensNotBefore } = await signIn(ctx, { user: decoded.slice(0, colon), password: decoded.slice(colon + 1), clientIp: req.ip });
    const requested = (req.params as Params).name.toLowerCase();
    if (requested !== '_self_' && requested !== principal && `${ctx.config.userDomain}.${requested}` !== principal) throw failed();
    const token = deps.tokens.issue(principal, ctx.config.userTokenTtlSeconds, ctx.now(), tokensNotBefore, services);
    // header=true: also say which header carries the token (Athenz's principal authority header).
    return queryOf(req).header === 'true' ? { token, header: PRINCIPAL_AUTH_HEADER } : { token };
  });

  // Tessera extension: browser sessions for the UI (token in an HttpOnly cookie, plus a CSRF token).
  app.post('/session', { schema: { operationId: 'postSession', tags: ['users'], summary: 'Tessera extension: sign in the UI', body: S.SessionLogin, response: { 200: S.Session, ...S.errors } } }, async (req, reply) => {
    const body = asBody(req.body);
    const user = typeof body.user === 'string' ? body.user : '';
    const password = typeof body.password === 'string' ? body.password : '';
    if (!user || !password) throw badRequest('user and password are required');
    const { principal, tokensNotBefore } = await signIn(ctx, { user, password, clientIp: req.ip });
    const ttl = ctx.config.userTokenTtlSeconds;
    const csrfToken = setSessionCookies(reply, deps.tokens.issue(principal, ttl, ctx.now(), tokensNotBefore), ttl);
    return { principal, systemAdmin: isSystemAdmin(ctx, principal), csrfToken, expires: new Date(ctx.now().getTime() + ttl * 1000).toISOString() };
  });

  app.delete('/session', { schema: { operationId: 'deleteSession', tags: ['users'], summary: 'Tessera extension: sign out', response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    // Logging out revokes the session's token (and a bearer token sent along), not just the cookie.
    const token = auth.token(req) ?? deps.tokens.verify(readCookies(req).get(SESSION_COOKIE) ?? '', ctx.now());
    if (token) await revokeToken(ctx.db, token, ctx.now());
    clearSessionCookies(reply);
    return reply.code(204).send();
  });

  // Tessera extension: system admins create users; users change their own password.
  app.put('/user/:name/password', { schema: { operationId: 'putUserPassword', tags: ['users'], summary: 'Tessera extension: create a user or change a password', params: S.params({ name: S.anyString(S.LIMITS.member) }), body: S.Password, response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    // Who may (the user, or a system admin): authorization.ts (selfOrSystemAdmin).
    const user = validUserName(ctx.config.userDomain, (req.params as Params).name);
    await setPassword(ctx.db, user, asBody(req.body).password, ctx.now());
    return reply.code(204).send();
  });

  // Athenz's ServicePrincipal: the caller's name split at the last dot, and the token it sent. A browser
  // session's token stays in its HttpOnly cookie (never readable by page scripts), and a certificate has none: "".
  app.get('/principal', { schema: { operationId: 'getServicePrincipal', tags: ['users'], response: { 200: S.ServicePrincipal, ...S.errors } } }, async (req) => {
    const who = callerOf(auth, req);
    const dot = who.lastIndexOf('.');
    return { domain: who.slice(0, dot), service: who.slice(dot + 1), token: bearerToken(req) ?? '' };
  });

  // Tessera extension: who the UI is signed in as.
  app.get('/session', { schema: { operationId: 'getSession', tags: ['users'], summary: 'Tessera extension: the signed-in principal', response: { 200: S.Session, ...S.errors } } }, async (req) => {
    const who = callerOf(auth, req);
    return { principal: who, systemAdmin: isSystemAdmin(ctx, who) };
  });

  // Athenz: the boolean and date attributes its user authority can filter on. Tessera's users have none.
  app.get('/authority/user/attribute', { schema: { operationId: 'getUserAuthorityAttributeMap', tags: ['users'], response: { 200: S.UserAuthorityAttributeMap, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    return { attributes: { bool: { values: [] }, date: { values: [] } } };
  });

  app.get('/user', { schema: { operationId: 'getUserList', tags: ['users'], querystring: S.query({ domain: S.domainName }), response: { 200: S.UserList, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = queryOf(req).domain?.toLowerCase() ?? ctx.config.userDomain;
    if (domain !== ctx.config.userDomain) throw badRequest(`getUserList: Unknown user domain: ${domain} (the user domain is ${ctx.config.userDomain})`);
    const rows = await ctx.db.selectFrom('users').select('name').orderBy('name').execute();
    return { names: rows.map((r) => r.name) };
  });
}
