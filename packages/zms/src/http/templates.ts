/** Templates: getServerTemplateList, getTemplate, getDomainTemplateList, putDomainTemplate(Ext), deleteDomainTemplate. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, notFound } from '@tessera/core/errors';
import { validName } from '@tessera/core/names';
import { asBody, optArray } from '../body.ts';
import { domainData } from '../domain-read.ts';
import { writeDomain } from '../domain-write.ts';
import { applyTemplates, findTemplate, type TemplateParam } from '../templates/apply-template.ts';
import { TEMPLATES } from '../templates/catalog.ts';
import { actorOf, callerOf, names } from './request.ts';
import { templateNames } from './domains.ts';
import type { ZmsRouteDeps } from './deps.ts';
import * as S from './schemas.ts';

export async function templatesRoutes(app: FastifyInstance, deps: ZmsRouteDeps): Promise<void> {
  const { ctx, auth } = deps;

  app.get('/template', { schema: { operationId: 'getServerTemplateList', tags: ['templates'], response: { 200: S.ServerTemplateList, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    return { templateNames: Object.keys(TEMPLATES).sort() };
  });

  app.get('/template/:template', { schema: { operationId: 'getTemplate', tags: ['templates'], params: S.params({ template: S.simpleName }), response: { 200: S.Template, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const t = findTemplate(names(req).simple('template', 'template name'));
    return {
      metadata: t.metadata,
      roles: t.roles.map((r) => ({ name: `_domain_:role.${r.name}`, roleMembers: r.members.map((m) => ({ memberName: m })) })),
      policies: t.policies.map((p) => ({ name: `_domain_:policy.${p.name}`, assertions: p.assertions })),
    };
  });

  app.get('/templatedetails', { schema: { operationId: 'getServerTemplateDetailsList', tags: ['templates'], response: { 200: S.DomainTemplateDetailsList, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    return { metaData: Object.keys(TEMPLATES).sort().map((n) => TEMPLATES[n]!.metadata) };
  });

  app.get('/domain/:domain/templatedetails', { schema: { operationId: 'getDomainTemplateDetailsList', tags: ['templates'], params: S.params({ domain: S.domainName }), response: { 200: S.DomainTemplateDetailsList, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const rows = await ctx.db.selectFrom('domain_templates').select('template').where('domain', '=', domain).orderBy('template').execute();
    return { metaData: rows.flatMap((r) => (TEMPLATES[r.template] ? [TEMPLATES[r.template]!.metadata] : [])) };
  });

  app.get('/domain/:domain/template', { schema: { operationId: 'getDomainTemplateList', tags: ['templates'], params: S.params({ domain: S.domainName }), response: { 200: S.DomainTemplateList, ...S.errors } } }, async (req) => {
    callerOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const rows = await ctx.db.selectFrom('domain_templates').select('template').where('domain', '=', domain).orderBy('template').execute();
    return { templateNames: rows.map((r) => r.template) };
  });

  const putTemplates = async (req: FastifyRequest, only?: string) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const body = asBody(req.body);
    const templates = templateNames(body);
    if (templates.length === 0) throw badRequest('putDomainTemplate: No templates specified');
    if (only !== undefined && (templates.length !== 1 || templates[0] !== only)) {
      throw badRequest(`putDomainTemplate: the body must name only the template in the path (${only})`);
    }
    const params = templateParams(body);
    await writeDomain(ctx, a, { domain, api: 'putDomainTemplate', kind: 'template' }, async (trx, modified) => ({
      result: undefined,
      details: await applyTemplates(trx, domain, templates, params, modified, ctx.config.serviceNameMinLength),
    }));
  };
  app.put('/domain/:domain/template', { schema: { operationId: 'putDomainTemplate', tags: ['templates'], params: S.params({ domain: S.domainName }), body: S.DomainTemplate, response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    await putTemplates(req);
    return reply.code(204).send();
  });
  app.put('/domain/:domain/template/:template', { schema: { operationId: 'putDomainTemplateExt', tags: ['templates'], params: S.params({ domain: S.domainName, template: S.simpleName }), body: S.DomainTemplate, response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    await putTemplates(req, names(req).simple('template', 'template name'));
    return reply.code(204).send();
  });

  app.delete('/domain/:domain/template/:template', { schema: { operationId: 'deleteDomainTemplate', tags: ['templates'], params: S.params({ domain: S.domainName, template: S.simpleName }), response: { ...S.noContent, ...S.errors } } }, async (req, reply) => {
    const a = actorOf(auth, req);
    const domain = names(req).domain();
    domainData(ctx, domain);
    const template = findTemplate(names(req).simple('template', 'template name'));
    const name = template.metadata.templateName;
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
}

function templateParams(body: Record<string, unknown>): TemplateParam[] {
  return (optArray(body, 'params') ?? []).map((p, i) => {
    const o = asBody(p);
    return { name: validName('simple', `params[${i}].name`, o.name), value: validName('simple', `params[${i}].value`, o.value) };
  });
}
