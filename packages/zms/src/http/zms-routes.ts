/**
 * The ZMS REST API under /zms/v1, with Athenz's paths, JSON and status codes.
 * Writes are authorized here (or, where Athenz has special rules, in the
 * operation itself); reads need an authenticated caller.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, notFound, unauthorized } from '@tessera/core/errors';
import { policyResourceName, roleResourceName, serviceResourceName, validName } from '@tessera/core/names';
import type { ZmsContext } from '../context.ts';
import { SYSTEM_DOMAIN } from '../config.ts';
import type { Authenticator } from '../auth/authenticate.ts';
import type { UserTokenSigner } from '../auth/user-tokens.ts';
import { authorize, isSystemAdmin } from '../authorize.ts';
import { asBody, optArray, optString } from '../body.ts';
import { createDomain, getDomain, validAdminUsers } from '../domain-create.ts';
import { deleteDomain } from '../domain-delete.ts';
import { listDomains, type DomainListQuery } from '../domain-list.ts';
import { putDomainMeta, putDomainSystemMeta } from '../domain-meta.ts';
import { domainData, domainHistory, shortName } from '../domain-read.ts';
import { normalizeAwsAccounts } from '../aws-account.ts';
import { deleteMembership, deleteRole, getRole, putMembership, putRole, roleAuditLog } from '../roles.ts';
import { deleteAssertion, deletePolicy, getPolicy, parseAssertionId, putAssertion, putPolicy } from '../policies.ts';
import { deletePublicKey, deleteService, getService, putPublicKey, putService, putServiceSystemMeta } from '../services.ts';
import { writeDomain } from '../domain-write.ts';
import { applyTemplates, findTemplate, type TemplateParam } from '../templates/apply-template.ts';
import { TEMPLATES } from '../templates/catalog.ts';
import { checkAccess } from '../access-check.ts';
import { modifiedDomains, signDomain, type DomainSigningKey } from '../signed-domains.ts';
import { checkPassword, setPassword, validUserName } from '../users.ts';
import { actorOf, names, sendStored, type Params } from './request.ts';
import { clearSessionCookies, setSessionCookies } from '../auth/browser-session.ts';
import { listInstances, revokeInstance, serviceStatus } from '../instances.ts';

export interface ZmsRouteDeps {
  ctx: ZmsContext;
  auth: Authenticator;
  tokens: UserTokenSigner;
  signingKey: DomainSigningKey;
}

export async function zmsRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;
  const actor = (req: FastifyRequest) => actorOf(auth, req);
  const caller = (req: FastifyRequest) => actorOf(auth, req).principal;
  const query = (req: FastifyRequest) => req.query as Record<string, string | undefined>;

  // ---- users and tokens
  app.get('/user/:name/token', async (req) => {
    const header = req.headers.authorization ?? '';
    const failed = () => unauthorized('Invalid user name or password');
    if (!header.startsWith('Basic ')) throw unauthorized('Send the user name and password with HTTP Basic authentication');
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw failed();
    const principal = await checkPassword(ctx.db, ctx.config.userDomain, decoded.slice(0, colon), decoded.slice(colon + 1));
    if (!principal) throw failed();
    const requested = (req.params as Params).name.toLowerCase();
    if (requested !== '_self_' && requested !== principal && `${ctx.config.userDomain}.${requested}` !== principal) throw failed();
    return { token: deps.tokens.issue(principal, ctx.config.userTokenTtlSeconds, ctx.now()) };
  });

  // Tessera extension: browser sessions for the UI (token in an HttpOnly cookie, plus a CSRF token).
  app.post('/session', async (req, reply) => {
    const body = asBody(req.body);
    const user = typeof body.user === 'string' ? body.user : '';
    const password = typeof body.password === 'string' ? body.password : '';
    if (!user || !password) throw badRequest('user and password are required');
    const principal = await checkPassword(ctx.db, ctx.config.userDomain, user, password);
    if (!principal) throw unauthorized('Invalid user name or password');
    const ttl = ctx.config.userTokenTtlSeconds;
    const csrfToken = setSessionCookies(reply, deps.tokens.issue(principal, ttl, ctx.now()), ttl);
    return { principal, systemAdmin: isSystemAdmin(ctx, principal), csrfToken, expires: new Date(ctx.now().getTime() + ttl * 1000).toISOString() };
  });

  app.delete('/session', async (_req, reply) => {
    clearSessionCookies(reply);
    return reply.code(204).send();
  });

  // Tessera extension: system admins create users; users change their own password.
  app.put('/user/:name/password', async (req, reply) => {
    const who = caller(req);
    const user = validUserName(ctx.config.userDomain, (req.params as Params).name, who, isSystemAdmin(ctx, who));
    await setPassword(ctx.db, user, asBody(req.body).password, ctx.now());
    return reply.code(204).send();
  });

  app.get('/principal', async (req) => {
    const who = caller(req);
    return { principal: who, systemAdmin: isSystemAdmin(ctx, who) };
  });

  // ---- domains
  app.post('/domain', async (req) => {
    const a = actor(req);
    authorize(ctx, 'postTopLevelDomain', a.principal, 'create', `${SYSTEM_DOMAIN}:domain`);
    const body = asBody(req.body);
    const name = validName('simple', 'domain name', body.name);
    const account = optString(body, 'account');
    return createDomain(ctx, a, {
      name,
      api: 'postTopLevelDomain',
      adminUsers: validAdminUsers(body.adminUsers),
      templates: templateNames(body),
      meta: {
        description: optString(body, 'description'),
        org: optString(body, 'org'),
        account: account === undefined ? undefined : normalizeAwsAccounts(account),
        awsAccountName: optString(body, 'awsAccountName'),
        productId: optString(body, 'productId'),
      },
    });
  });

  app.post('/subdomain/:parent', async (req) => {
    const a = actor(req);
    const parent = validName('domain', 'parent domain', (req.params as Params).parent);
    const body = asBody(req.body);
    const bodyParent = optString(body, 'parent');
    if (bodyParent !== undefined && bodyParent.toLowerCase() !== parent) {
      throw badRequest(`postSubDomain: Request and detail parent domains do not match (${bodyParent} vs ${parent})`);
    }
    const leaf = validName('simple', 'sub-domain name', body.name);
    authorize(ctx, 'postSubDomain', a.principal, 'create', `${parent}:domain`);
    const parentData = ctx.snapshots.get(parent);
    if (!parentData) throw notFound(`postSubDomain: Invalid parent domain: ${parent}`);
    return createDomain(ctx, a, {
      name: validName('domain', 'domain name', `${parent}.${leaf}`),
      api: 'postSubDomain',
      adminUsers: validAdminUsers(body.adminUsers),
      templates: templateNames(body),
      meta: { description: optString(body, 'description'), org: parentData.org, auditEnabled: parentData.auditEnabled },
    });
  });

  app.post('/userdomain/:name', async (req) => {
    const a = actor(req);
    const leaf = validName('simple', 'user domain name', (req.params as Params).name);
    const body = asBody(req.body);
    const bodyName = optString(body, 'name');
    if (bodyName !== undefined && bodyName.toLowerCase() !== leaf) throw badRequest(`postUserDomain: name in the body (${bodyName}) does not match the path (${leaf})`);
    const name = `${ctx.config.userDomain}.${leaf}`;
    authorize(ctx, 'postUserDomain', a.principal, 'create', `${name}:domain`);
    return createDomain(ctx, a, {
      name,
      api: 'postUserDomain',
      adminUsers: [name],
      templates: templateNames(body),
      meta: { description: optString(body, 'description') },
    });
  });

  app.get('/domain', async (req) => {
    caller(req);
    return listDomains(ctx, query(req) as DomainListQuery);
  });

  app.get('/domain/:domain', async (req) => {
    caller(req);
    return getDomain(ctx, names(req).domain());
  });

  app.delete('/domain/:name', async (req, reply) => {
    const a = actor(req);
    authorize(ctx, 'deleteTopLevelDomain', a.principal, 'delete', `${SYSTEM_DOMAIN}:domain`);
    const name = validName('simple', 'domain name', (req.params as Params).name);
    await deleteDomain(ctx, a, name, 'deleteTopLevelDomain');
    return reply.code(204).send();
  });

  app.delete('/subdomain/:parent/:name', async (req, reply) => {
    const a = actor(req);
    const p = req.params as Params;
    const parent = validName('domain', 'parent domain', p.parent);
    const full = `${parent}.${validName('simple', 'sub-domain name', p.name)}`;
    try {
      authorize(ctx, 'deleteSubDomain', a.principal, 'delete', `${full}:domain`);
    } catch {
      authorize(ctx, 'deleteSubDomain', a.principal, 'delete', `${parent}:domain`);
    }
    await deleteDomain(ctx, a, full, 'deleteSubDomain');
    return reply.code(204).send();
  });

  app.delete('/userdomain/:name', async (req, reply) => {
    const a = actor(req);
    const name = `${ctx.config.userDomain}.${validName('simple', 'user domain name', (req.params as Params).name)}`;
    authorize(ctx, 'deleteUserDomain', a.principal, 'delete', `${name}:domain`);
    await deleteDomain(ctx, a, name, 'deleteUserDomain');
    return reply.code(204).send();
  });

  app.put('/domain/:domain/meta', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    authorize(ctx, 'putDomainMeta', a.principal, 'update', `${domain}:`);
    await putDomainMeta(ctx, a, domain, asBody(req.body));
    return reply.code(204).send();
  });

  app.put('/domain/:domain/meta/system/:attribute', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    await putDomainSystemMeta(ctx, a, domain, names(req).simple('attribute', 'attribute').toLowerCase(), asBody(req.body));
    return reply.code(204).send();
  });

  app.get('/domain/:domain/history', async (req) => {
    caller(req);
    const domain = names(req).domain();
    const limit = Math.min(Number(query(req).limit ?? 100) || 100, 1000);
    return domainHistory(ctx, domain, limit);
  });

  // ---- roles
  app.get('/domain/:domain/role', async (req) => {
    caller(req);
    return { names: domainData(ctx, names(req).domain()).roles.map((r) => shortName(r.name)) };
  });

  app.get('/domain/:domain/roles', async (req) => {
    caller(req);
    return { list: domainData(ctx, names(req).domain()).roles };
  });

  app.get('/domain/:domain/role/:role', async (req) => {
    caller(req);
    const domain = names(req).domain();
    const role = names(req).role();
    domainData(ctx, domain);
    const found = getRole(ctx, domain, role);
    return query(req).auditLog === 'true' ? { ...found, auditLog: await roleAuditLog(ctx, domain, role) } : found;
  });

  app.put('/domain/:domain/role/:role', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    const role = names(req).role();
    domainData(ctx, domain);
    authorize(ctx, 'putRole', a.principal, 'update', roleResourceName(domain, role));
    await putRole(ctx, a, domain, role, req.body);
    return sendStored(req, reply, () => getRole(ctx, domain, role));
  });

  app.delete('/domain/:domain/role/:role', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    const role = names(req).role();
    domainData(ctx, domain);
    authorize(ctx, 'deleteRole', a.principal, 'delete', roleResourceName(domain, role));
    await deleteRole(ctx, a, domain, role);
    return reply.code(204).send();
  });

  app.get('/domain/:domain/role/:role/member/:member', async (req) => {
    caller(req);
    const domain = names(req).domain();
    const role = names(req).role();
    const member = names(req).member();
    domainData(ctx, domain);
    const m = getRole(ctx, domain, role).roleMembers?.find((x) => x.memberName === member);
    return { memberName: member, roleName: role, isMember: !!m, ...(m?.expiration ? { expiration: m.expiration } : {}) };
  });

  app.put('/domain/:domain/role/:role/member/:member', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    const role = names(req).role();
    const member = names(req).member();
    domainData(ctx, domain);
    await putMembership(ctx, a, domain, role, member, req.body ?? {});
    return sendStored(req, reply, () => ({ memberName: member, roleName: role, isMember: true }));
  });

  app.delete('/domain/:domain/role/:role/member/:member', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    await deleteMembership(ctx, a, domain, names(req).role(), names(req).member());
    return reply.code(204).send();
  });

  // ---- policies
  app.get('/domain/:domain/policy', async (req) => {
    caller(req);
    return { names: domainData(ctx, names(req).domain()).policies.contents.policies.map((p) => shortName(p.name)) };
  });

  app.get('/domain/:domain/policies', async (req) => {
    caller(req);
    const list = domainData(ctx, names(req).domain()).policies.contents.policies;
    return { list: query(req).assertions === 'false' ? list.map(({ assertions: _a, ...p }) => ({ ...p, assertions: [] })) : list };
  });

  app.get('/domain/:domain/policy/:policy', async (req) => {
    caller(req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    return getPolicy(ctx, domain, names(req).policy());
  });

  app.put('/domain/:domain/policy/:policy', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    const policy = names(req).policy();
    domainData(ctx, domain);
    authorize(ctx, 'putPolicy', a.principal, 'update', policyResourceName(domain, policy));
    await putPolicy(ctx, a, domain, policy, req.body);
    return sendStored(req, reply, () => getPolicy(ctx, domain, policy));
  });

  app.delete('/domain/:domain/policy/:policy', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    const policy = names(req).policy();
    domainData(ctx, domain);
    authorize(ctx, 'deletePolicy', a.principal, 'delete', policyResourceName(domain, policy));
    await deletePolicy(ctx, a, domain, policy);
    return reply.code(204).send();
  });

  app.get('/domain/:domain/policy/:policy/assertion/:id', async (req) => {
    caller(req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const id = parseAssertionId((req.params as Params).id);
    const found = getPolicy(ctx, domain, names(req).policy()).assertions.find((x) => x.id === id);
    if (!found) throw notFound(`getAssertion: Assertion not found: ${id}`);
    return found;
  });

  app.put('/domain/:domain/policy/:policy/assertion', async (req) => {
    const a = actor(req);
    const domain = names(req).domain();
    const policy = names(req).policy();
    domainData(ctx, domain);
    authorize(ctx, 'putAssertion', a.principal, 'update', policyResourceName(domain, policy));
    return putAssertion(ctx, a, domain, policy, req.body);
  });

  app.delete('/domain/:domain/policy/:policy/assertion/:id', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    const policy = names(req).policy();
    domainData(ctx, domain);
    authorize(ctx, 'deleteAssertion', a.principal, 'update', policyResourceName(domain, policy));
    await deleteAssertion(ctx, a, domain, policy, parseAssertionId((req.params as Params).id));
    return reply.code(204).send();
  });

  // ---- services
  app.get('/domain/:domain/service', async (req) => {
    caller(req);
    return { names: domainData(ctx, names(req).domain()).services.map((s) => s.name.slice(s.name.lastIndexOf('.') + 1)) };
  });

  app.get('/domain/:domain/services', async (req) => {
    caller(req);
    const list = domainData(ctx, names(req).domain()).services;
    return { list: query(req).publickeys === 'false' ? list.map(({ publicKeys: _k, ...s }) => s) : list };
  });

  app.get('/domain/:domain/service/:service', async (req) => {
    caller(req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    return getService(ctx, domain, names(req).service());
  });

  app.put('/domain/:domain/service/:service', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    const service = names(req).service();
    domainData(ctx, domain);
    authorize(ctx, 'putServiceIdentity', a.principal, 'update', serviceResourceName(domain, service));
    await putService(ctx, a, domain, service, req.body);
    return sendStored(req, reply, () => getService(ctx, domain, service));
  });

  app.delete('/domain/:domain/service/:service', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    const service = names(req).service();
    domainData(ctx, domain);
    authorize(ctx, 'deleteServiceIdentity', a.principal, 'delete', serviceResourceName(domain, service));
    await deleteService(ctx, a, domain, service);
    return reply.code(204).send();
  });

  app.get('/domain/:domain/service/:service/publickey/:id', async (req) => {
    caller(req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const id = names(req).simple('id', 'public key id');
    const key = getService(ctx, domain, names(req).service()).publicKeys?.find((k) => k.id === id);
    if (!key) throw notFound(`getPublicKeyEntry: no public key ${id}`);
    return key;
  });

  app.put('/domain/:domain/service/:service/publickey/:id', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    const service = names(req).service();
    domainData(ctx, domain);
    authorize(ctx, 'putPublicKeyEntry', a.principal, 'update', serviceResourceName(domain, service));
    await putPublicKey(ctx, a, domain, service, names(req).simple('id', 'public key id'), req.body);
    return reply.code(204).send();
  });

  app.delete('/domain/:domain/service/:service/publickey/:id', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    const service = names(req).service();
    domainData(ctx, domain);
    authorize(ctx, 'deletePublicKeyEntry', a.principal, 'update', serviceResourceName(domain, service));
    await deletePublicKey(ctx, a, domain, service, names(req).simple('id', 'public key id'));
    return reply.code(204).send();
  });

  app.put('/domain/:domain/service/:service/meta/system/:attribute', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    await putServiceSystemMeta(ctx, a, domain, names(req).service(), names(req).simple('attribute', 'attribute').toLowerCase(), req.body);
    return reply.code(204).send();
  });

  // Tessera extension: instances of a service (ZTS certificate records), and revoking one.
  app.get('/domain/:domain/service/:service/instances', async (req) => {
    caller(req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const service = names(req).service();
    getService(ctx, domain, service);
    return listInstances(ctx, domain, service);
  });

  // Tessera extension: per service, instance count, last issued and last refused registration (contracts.md).
  app.get('/domain/:domain/service-status', async (req) => {
    caller(req);
    return serviceStatus(ctx, domainData(ctx, names(req).domain()));
  });

  app.delete('/domain/:domain/service/:service/instance/:provider/:instanceId', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    const service = names(req).service();
    domainData(ctx, domain);
    const p = req.params as Params;
    authorize(ctx, 'revokeInstance', a.principal, 'delete', `${domain}:instance.${p.instanceId}`);
    await revokeInstance(ctx, domain, service, validName('service', 'provider', p.provider), p.instanceId);
    return reply.code(204).send();
  });

  // ---- templates
  app.get('/template', async (req) => {
    caller(req);
    return { templateNames: Object.keys(TEMPLATES).sort() };
  });

  app.get('/template/:template', async (req) => {
    caller(req);
    const t = findTemplate(names(req).simple('template', 'template name'));
    return {
      metadata: t.metadata,
      roles: t.roles.map((r) => ({ name: `_domain_:role.${r.name}`, roleMembers: r.members.map((m) => ({ memberName: m })) })),
      policies: t.policies.map((p) => ({ name: `_domain_:policy.${p.name}`, assertions: p.assertions })),
    };
  });

  app.get('/domain/:domain/template', async (req) => {
    caller(req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const rows = await ctx.db.selectFrom('domain_templates').select('template').where('domain', '=', domain).orderBy('template').execute();
    return { templateNames: rows.map((r) => r.template) };
  });

  const putTemplates = async (req: FastifyRequest, only?: string) => {
    const a = actor(req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const body = asBody(req.body);
    const templates = templateNames(body);
    if (templates.length === 0) throw badRequest('putDomainTemplate: No templates specified');
    if (only !== undefined && (templates.length !== 1 || templates[0] !== only)) {
      throw badRequest(`putDomainTemplate: the body must name only the template in the path (${only})`);
    }
    authorize(ctx, 'putDomainTemplate', a.principal, 'update', only ? `${domain}:template.${only}` : `${domain}:template`);
    const params = templateParams(body);
    await writeDomain(ctx, a, { domain, api: 'putDomainTemplate', kind: 'template' }, async (trx, modified) => ({
      result: undefined,
      details: await applyTemplates(trx, domain, templates, params, modified),
    }));
  };
  app.put('/domain/:domain/template', async (req, reply) => {
    await putTemplates(req);
    return reply.code(204).send();
  });
  app.put('/domain/:domain/template/:template', async (req, reply) => {
    await putTemplates(req, names(req).simple('template', 'template name'));
    return reply.code(204).send();
  });

  app.delete('/domain/:domain/template/:template', async (req, reply) => {
    const a = actor(req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const template = findTemplate(names(req).simple('template', 'template name'));
    const name = template.metadata.templateName;
    authorize(ctx, 'deleteDomainTemplate', a.principal, 'delete', `${domain}:template.${name}`);
    await writeDomain(ctx, a, { domain, api: 'deleteDomainTemplate', kind: 'template' }, async (trx) => {
      const applied = await trx.deleteFrom('domain_templates').where('domain', '=', domain).where('template', '=', name).executeTakeFirst();
      if (Number(applied.numDeletedRows) === 0) throw notFound(`deleteDomainTemplate: template ${name} is not applied to ${domain}`);
      // As in Athenz: the template's roles and policies go, for every service it was applied to.
      for (const r of template.roles) await trx.deleteFrom('roles').where('domain', '=', domain).where('name', '=', r.name).execute();
      for (const p of template.policies) await trx.deleteFrom('policies').where('domain', '=', domain).where('name', '=', p.name).execute();
      return { result: undefined, details: { 'delete-template': name } };
    });
    return reply.code(204).send();
  });

  // ---- access checks
  app.get('/access/:action/:resource', async (req) => {
    const q = query(req);
    const p = req.params as Params;
    return checkAccess(ctx, caller(req), { action: p.action, resource: p.resource, principal: q.principal, trustDomain: q.domain });
  });

  app.get('/access/:action', async (req) => {
    const q = query(req);
    if (!q.resource) throw badRequest('getAccessExt: resource query parameter is required');
    return checkAccess(ctx, caller(req), {
      action: (req.params as Params).action,
      resource: q.resource,
      principal: q.principal,
      trustDomain: q.domain,
    });
  });

  // ---- change feed for ZTS
  app.get('/sys/modified_domains', async (req, reply) => {
    const who = caller(req);
    const q = query(req);
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

  app.get('/domain/:domain/signed', async (req, reply) => {
    caller(req);
    const d = domainData(ctx, names(req).domain());
    const since = (req.headers['if-none-match'] ?? '').replace(/"/g, '');
    if (since && since >= d.modified) return reply.code(304).header('ETag', `"${since}"`).send();
    reply.header('ETag', `"${d.modified}"`);
    return signDomain(deps.signingKey, d);
  });
}

function templateNames(body: Record<string, unknown>): string[] {
  const holder = body.templates === undefined ? body : asBody(body.templates);
  const list = optArray(holder, 'templateNames') ?? [];
  return [...new Set(list.map((t, i) => validName('simple', `templateNames[${i}]`, t)))];
}

function templateParams(body: Record<string, unknown>): TemplateParam[] {
  return (optArray(body, 'params') ?? []).map((p, i) => {
    const o = asBody(p);
    return { name: validName('simple', `params[${i}].name`, o.name), value: validName('simple', `params[${i}].value`, o.value) };
  });
}
