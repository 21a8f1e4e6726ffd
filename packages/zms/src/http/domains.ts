/** Domains: top-level, sub- and user domains (postTopLevelDomain, postSubDomain, postUserDomain, getDomainList, getDomain, delete*). */
import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '@tessera/core/errors';
import { validName } from '@tessera/core/names';
import { asBody, optArray, optString } from '../body.ts';
import { createDomain, getDomain, validAdminUsers } from '../domain-create.ts';
import { deleteDomain } from '../domain-delete.ts';
import { listDomains, type DomainListQuery } from '../domain-list.ts';
import { normalizeAwsAccounts } from '../aws-account.ts';
import { domainData, shortName } from '../domain-read.ts';
import { actorOf, callerOf, names, queryOf, type Params } from './request.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

export async function domainsRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  app.post('/domain', { schema: { operationId: 'postTopLevelDomain', tags: ['domains'], body: S.TopLevelDomain, response: { 200: S.Domain, ...S.errors } } }, async (req) => {
    const a = actorOf(auth, req);
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

  app.post('/subdomain/:parent', { schema: { operationId: 'postSubDomain', tags: ['domains'], params: S.params({ parent: S.domainName }), body: S.SubDomain, response: { 200: S.Domain, ...S.errors } } }, async (req) => {
    const a = actorOf(auth, req);
    const parent = validName('domain', 'parent domain', (req.params as Params).parent);
    const body = asBody(req.body);
    const bodyParent = optString(body, 'parent');
    if (bodyParent !== undefined && bodyParent.toLowerCase() !== parent) {
      throw badRequest(`postSubDomain: Request and detail parent domains do not match (${bodyParent} vs ${parent})`);
    }
    const leaf = validName('simple', 'sub-domain name', body.name);
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

  app.post('/userdomain/:name', { schema: { operationId: 'postUserDomain', tags: ['domains'], params: S.params({ name: S.simpleName }), body: S.UserDomain, response: { 200: S.Domain, ...S.errors } } }, async (req) => {
    const a = actorOf(auth, req);
    const leaf = validName('simple', 'user domain name', (req.params as Params).name);
    const body = asBody(req.body);
    const bodyName = optString(body, 'name');
    if (bodyName !== undefined && bodyName.toLowerCase() !== leaf) throw badRequest(`postUserDomain: name in the body (${bodyName}) does not match the path (${leaf})`);
    const name = `${ctx.config.userDomain}.${leaf}`;
    return createDomain(ctx, a, {
      name,
      api: 'postUserDomain',
      adminUsers: [name],
      templates: templateNames(body),
      meta: { description: optString(body, 'description') },
    });
  });

  app.get('/domain', { schema: { operationId: 'getDomainList', tags: ['domains'], querystring: S.query({ limit: S.intString, skip: S.anyString(), prefix: S.anyString(), depth: S.intString, account: S.anyString(), ypmid: S.intString, member: S.anyString(), role: S.anyString(), modified: S.anyString(), productId: S.anyString(), tagKey: S.anyString(), tagValue: S.anyString(), businessService: S.anyString() }), response: { 200: S.DomainList, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    return listDomains(ctx, queryOf(req) as DomainListQuery);
  });

  app.get('/domain/:domain', { schema: { operationId: 'getDomain', tags: ['domains'], params: S.params({ domain: S.domainName }), response: { 200: S.Domain, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    return getDomain(ctx, names(req).domain());
  });

  // Athenz's consistency report: roles no assertion uses, assertions naming roles that do not exist.
  app.get('/domain/:domain/check', { schema: { operationId: 'getDomainDataCheck', tags: ['domains'], params: S.params({ domain: S.domainName }), response: { 200: S.DomainDataCheck, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    const data = domainData(ctx, domain);
    const roles = new Set(data.roles.map((r) => r.name));
    const used = new Set<string>();
    const danglingPolicies: { policyName: string; roleName: string }[] = [];
    const policies = data.policies.contents.policies.filter((p) => p.active !== false);
    let assertionCount = 0;
    for (const p of policies) {
      for (const a of p.assertions) {
        assertionCount++;
        if (roles.has(a.role)) used.add(a.role);
        else danglingPolicies.push({ policyName: shortName(p.name), roleName: a.role.startsWith(`${domain}:role.`) ? shortName(a.role) : a.role });
      }
    }
    const danglingRoles = [...roles].filter((r) => !used.has(r)).map(shortName);
    return {
      ...(danglingRoles.length ? { danglingRoles } : {}),
      ...(danglingPolicies.length ? { danglingPolicies } : {}),
      policyCount: policies.length,
      assertionCount,
      roleWildCardCount: 0,
    };
  });

  app.delete('/domain/:name', { schema: { operationId: 'deleteTopLevelDomain', tags: ['domains'], params: S.params({ name: S.topLevelDomainName }), response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const name = validName('simple', 'domain name', (req.params as Params).name);
    await deleteDomain(ctx, a, name, 'deleteTopLevelDomain');
    return reply.code(204).send();
  });

  app.delete('/subdomain/:parent/:name', { schema: { operationId: 'deleteSubDomain', tags: ['domains'], params: S.params({ parent: S.domainName, name: S.simpleName }), response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const p = req.params as Params;
    const parent = validName('domain', 'parent domain', p.parent);
    const full = `${parent}.${validName('simple', 'sub-domain name', p.name)}`;
    await deleteDomain(ctx, a, full, 'deleteSubDomain');
    return reply.code(204).send();
  });

  app.delete('/userdomain/:name', { schema: { operationId: 'deleteUserDomain', tags: ['domains'], params: S.params({ name: S.simpleName }), response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const name = `${ctx.config.userDomain}.${validName('simple', 'user domain name', (req.params as Params).name)}`;
    await deleteDomain(ctx, a, name, 'deleteUserDomain');
    return reply.code(204).send();
  });
}

/** The templates named in a domain-create body ({templates: {templateNames}} as in Athenz's TopLevelDomain). */
export function templateNames(body: Record<string, unknown>): string[] {
  const holder = body.templates === undefined ? body : asBody(body.templates);
  const list = optArray(holder, 'templateNames') ?? [];
  return [...new Set(list.map((t, i) => validName('simple', `templateNames[${i}]`, t)))];
}
