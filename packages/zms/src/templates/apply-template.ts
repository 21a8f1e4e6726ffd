/**
 * Applying templates to a domain only ever adds: missing roles, members,
 * policies and assertions are inserted; nothing is removed or replaced.
 */
import { badRequest, notFound } from '@tessera/core/errors';
import { serviceNameProblem, validName } from '@tessera/core/names';
import type { Trx } from '../domain-write.ts';
import { TEMPLATES, type TemplateDefinition } from './catalog.ts';

export interface TemplateParam {
  name: string;
  value: string;
}

export function findTemplate(name: string): TemplateDefinition {
  const t = TEMPLATES[name];
  if (!t) {
    throw notFound(`validateSolutionTemplates: Template not found: ${name} (known: ${Object.keys(TEMPLATES).join(', ')})`);
  }
  return t;
}

function substitute(text: string, domain: string, params: TemplateParam[]): string {
  let out = text.replaceAll('_domain_', domain);
  for (const p of params) out = out.replaceAll(`_${p.name}_`, p.value);
  return out;
}

/**
 * Validates names and params before anything is written. A missing parameter is
 * not an error, as in Athenz (DBService.updateTemplateRole/Policy): its keyword
 * (e.g. `_service_`) stays as written in the template, which matches no service
 * (service names cannot contain "_"). zms-cli warns before sending such a request.
 */
export function checkTemplateRequest(names: string[], params: TemplateParam[], serviceNameMinLength: number): void {
  for (const name of names) findTemplate(name);
  for (const p of params) {
    validName('simple', `template parameter ${p.name}`, p.value);
    // The launch templates grant launch on <domain>:service.<service>: a name no service can have would grant nothing.
    const problem = p.name === 'service' ? serviceNameProblem(p.value.toLowerCase(), serviceNameMinLength) : undefined;
    if (problem) throw badRequest(`template parameter service: ${problem}; no service can have this name`);
  }
}

export async function applyTemplates(
  trx: Trx,
  domain: string,
  names: string[],
  params: TemplateParam[],
  modified: string,
  serviceNameMinLength: number,
): Promise<Record<string, unknown>> {
  checkTemplateRequest(names, params, serviceNameMinLength);
  const added: string[] = [];
  for (const name of names) {
    const template = findTemplate(name);
    for (const role of template.roles) {
      const roleName = substitute(role.name, domain, params);
      const exists = await trx.selectFrom('roles').select('name').where('domain', '=', domain).where('name', '=', roleName).executeTakeFirst();
      if (!exists) {
        await trx.insertInto('roles').values({ domain, name: roleName, trust: null, description: null, modified }).execute();
        added.push(`role ${roleName}`);
      }
      for (const member of role.members.map((m) => substitute(m, domain, params))) {
        const has = await trx
          .selectFrom('role_members')
          .select('member_name')
          .where('domain', '=', domain)
          .where('role', '=', roleName)
          .where('member_name', '=', member)
          .executeTakeFirst();
        if (!has) {
          await trx.insertInto('role_members').values({ domain, role: roleName, member_name: member, expiration: null, system_disabled: 0, audit_ref: null }).execute();
          await trx.updateTable('roles').set({ modified }).where('domain', '=', domain).where('name', '=', roleName).execute();
        }
      }
    }
    for (const policy of template.policies) {
      const policyName = substitute(policy.name, domain, params);
      const exists = await trx.selectFrom('policies').select('name').where('domain', '=', domain).where('name', '=', policyName).executeTakeFirst();
      if (!exists) {
        await trx.insertInto('policies').values({ domain, name: policyName, description: null, case_sensitive: 0, modified }).execute();
        added.push(`policy ${policyName}`);
      }
      for (const a of policy.assertions) {
        const row = {
          role: substitute(a.role, domain, params),
          resource: substitute(a.resource, domain, params),
          action: substitute(a.action, domain, params),
          effect: a.effect ?? 'ALLOW',
        };
        const has = await trx
          .selectFrom('assertions')
          .select('id')
          .where('domain', '=', domain)
          .where('policy', '=', policyName)
          .where('role', '=', row.role)
          .where('resource', '=', row.resource)
          .where('action', '=', row.action)
          .where('effect', '=', row.effect)
          .executeTakeFirst();
        if (!has) {
          await trx.insertInto('assertions').values({ domain, policy: policyName, ...row, case_sensitive: 0 }).execute();
          await trx.updateTable('policies').set({ modified }).where('domain', '=', domain).where('name', '=', policyName).execute();
          added.push(`assertion ${row.effect} ${row.action} on ${row.resource}`);
        }
      }
    }
    const recorded = await trx.selectFrom('domain_templates').select('template').where('domain', '=', domain).where('template', '=', name).executeTakeFirst();
    if (!recorded) {
      await trx.insertInto('domain_templates').values({ domain, template: name, version: template.metadata.latestVersion }).execute();
    }
  }
  return { 'add-templates': names, params, added };
}
