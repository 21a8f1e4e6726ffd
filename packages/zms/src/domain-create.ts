/**
 * Creating a domain (top-level, sub-domain or user domain): the domain row, its
 * `admin` role with the admin users and its `admin` policy granting `*` on
 * `<domain>:*`, then any templates — all in one transaction.
 */
import { randomUUID } from 'node:crypto';
import { badRequest, notFound } from '@tessera/core/errors';
import { validName } from '@tessera/core/names';
import type { Domain, DomainMeta } from '@tessera/core/model';
import { domainFromRow, metaToColumns } from '@tessera/store/domain-rows';
import { insertRows } from '@tessera/store/insert-rows';
import type { Actor, ZmsContext } from './context.ts';
import { recordAudit, type Trx } from './domain-write.ts';
import { nextModified } from './timestamps.ts';
import { applyTemplates } from './templates/apply-template.ts';
import { assertAccountsUnused } from './domain-meta.ts';

export interface NewDomain {
  name: string;
  meta: DomainMeta;
  adminUsers: string[];
  templates: string[];
  api: string;
}

export function validAdminUsers(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw badRequest('adminUsers is required: list at least one administrator, e.g. ["user.jane"]');
  }
  return [...new Set(value.map((u, i) => validName('member', `adminUsers[${i}]`, u)))];
}

export async function createDomain(ctx: ZmsContext, actor: Actor, d: NewDomain): Promise<Domain> {
  await ctx.db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('domains').select('name').where('name', '=', d.name).executeTakeFirst();
    // Athenz answers 400 (not 409) for an existing domain.
    if (existing) throw badRequest(`${d.api}: Cannot create domain: ${d.name} - already exists`);
    if (d.meta.account) await assertAccountsUnused(ctx, trx, d.name, d.meta.account);
    const now = nextModified(undefined, ctx.now());
    await trx
      .insertInto('domains')
      .values({
        name: d.name,
        id: randomUUID(),
        enabled: 1,
        audit_enabled: 0,
        description: null,
        org: null,
        account: null,
        aws_account_name: null,
        ypm_id: null,
        product_id: null,
        application_id: null,
        cert_dns_domain: null,
        business_service: null,
        member_expiry_days: null,
        service_expiry_days: null,
        token_expiry_mins: null,
        service_cert_expiry_mins: null,
        role_cert_expiry_mins: null,
        sign_algorithm: null,
        ...metaToColumns(d.meta),
        created: now,
        modified: now,
      })
      .execute();
    await trx.insertInto('roles').values({ domain: d.name, name: 'admin', trust: null, description: null, modified: now }).execute();
    await insertRows(trx, 'role_members', d.adminUsers.map((m) => ({ domain: d.name, role: 'admin', member_name: m, expiration: null, system_disabled: 0, audit_ref: null })));
    await trx.insertInto('policies').values({ domain: d.name, name: 'admin', description: null, case_sensitive: 0, modified: now }).execute();
    await trx
      .insertInto('assertions')
      .values({ domain: d.name, policy: 'admin', role: `${d.name}:role.admin`, resource: `${d.name}:*`, action: '*', effect: 'ALLOW', case_sensitive: 0 })
      .execute();
    if (d.templates.length > 0) await applyTemplates(trx, d.name, d.templates, [], now, ctx.config.serviceNameMinLength);
    await recordAudit(trx, {
      domain: d.name,
      created: now,
      actor,
      api: d.api,
      details: { domain: d.name, adminUsers: d.adminUsers, ...(d.templates.length ? { templates: d.templates } : {}) },
    });
  });
  await ctx.snapshots.refresh(d.name);
  return getDomain(ctx, d.name);
}

export async function getDomain(ctx: ZmsContext, name: string): Promise<Domain> {
  const row = await ctx.db.selectFrom('domains').selectAll().where('name', '=', name).executeTakeFirst();
  if (!row) throw notFound(`Domain not found: ${name}`);
  return domainFromRow(row);
}

/** Runs inside a transaction: Kysely's Trx and the root db share this shape. */
export async function domainExists(trx: Trx | ZmsContext['db'], name: string): Promise<boolean> {
  return !!(await trx.selectFrom('domains').select('name').where('name', '=', name).executeTakeFirst());
}
