/**
 * First start: the system domains, the system administrator `user.admin`, and
 * the provider data the AWS flow needs. Later starts only add what a changed
 * configuration (new regions, another DNS suffix) requires.
 */
import type { Actor, ZmsContext } from './context.ts';
import { SYSTEM_DOMAIN } from './config.ts';
import { createDomain, domainExists } from './domain-create.ts';
import { writeDomain, type Trx } from './domain-write.ts';
import { generatePassword } from './auth/passwords.ts';
import { setPassword } from './users.ts';

export const ADMIN_USER = 'user.admin';
export const AWS_PROVIDER_ENDPOINT = 'class://com.yahoo.athenz.instance.provider.impl.InstanceAWSProvider';
export const AWS_ECS_PROVIDER_ENDPOINT = 'class://com.yahoo.athenz.instance.provider.impl.InstanceAWSECSProvider';

const SYSTEM: Actor = { principal: 'sys.auth.zms', auditRef: 'bootstrap' };

export interface BootstrapResult {
  /** Set only when the password was generated now: shown once, never stored in clear. */
  generatedAdminPassword?: string;
}

export async function bootstrapSystem(ctx: ZmsContext, adminPassword: string | undefined): Promise<BootstrapResult> {
  const result: BootstrapResult = {};
  if (!(await domainExists(ctx.db, SYSTEM_DOMAIN))) {
    const password = adminPassword ?? generatePassword();
    if (!adminPassword) result.generatedAdminPassword = password;
    await setPassword(ctx.db, ADMIN_USER, password, ctx.now());
    for (const name of ['sys', SYSTEM_DOMAIN, ctx.config.userDomain, 'athenz', 'athenz.aws', 'athenz.aws-ecs']) {
      await createDomain(ctx, SYSTEM, { name, meta: {}, adminUsers: [ADMIN_USER], templates: [], api: 'bootstrap' });
    }
    await writeDomain(ctx, SYSTEM, { domain: SYSTEM_DOMAIN, api: 'bootstrap' }, async (trx, modified) => {
      for (const s of ['zms', 'zts']) await ensureService(trx, SYSTEM_DOMAIN, s, null, modified);
      return { result: undefined, details: { services: ['sys.auth.zms', 'sys.auth.zts'] } };
    });
  }
  await ensureProviders(ctx);
  return result;
}

interface Provider {
  domain: string;
  service: string;
  endpoint: string;
}

function providers(ctx: ZmsContext): Provider[] {
  return ctx.config.awsRegions.flatMap((region) => [
    { domain: 'athenz.aws', service: region, endpoint: AWS_PROVIDER_ENDPOINT },
    { domain: 'athenz.aws-ecs', service: region, endpoint: AWS_ECS_PROVIDER_ENDPOINT },
  ]);
}

/** Provider services, the `sys.auth` providers role and launch policy, and each provider's DNS-suffix policy. */
async function ensureProviders(ctx: ZmsContext): Promise<void> {
  const list = providers(ctx);
  for (const domain of [...new Set(list.map((p) => p.domain))]) {
    const missing = list.filter((p) => p.domain === domain && !ctx.snapshots.get(domain)?.services.some((s) => s.name === `${p.domain}.${p.service}`));
    if (missing.length === 0) continue;
    await writeDomain(ctx, SYSTEM, { domain, api: 'bootstrap' }, async (trx, modified) => {
      for (const p of missing) await ensureService(trx, p.domain, p.service, p.endpoint, modified);
      return { result: undefined, details: { providers: missing.map((p) => `${p.domain}.${p.service}`) } };
    });
  }

  const suffix = ctx.config.awsDnsSuffix;
  const sys = ctx.snapshots.get(SYSTEM_DOMAIN);
  const names = list.map((p) => `${p.domain}.${p.service}`);
  const roleHas = (role: string, member: string) =>
    sys?.roles.find((r) => r.name === `${SYSTEM_DOMAIN}:role.${role}`)?.roleMembers?.some((m) => m.memberName === member);
  const policyHas = (policy: string, resource: string) =>
    sys?.policies.contents.policies.find((p) => p.name === `${SYSTEM_DOMAIN}:policy.${policy}`)?.assertions.some((a) => a.resource === resource);
  const upToDate =
    names.every((n) => roleHas('providers', n) && roleHas(`provider.${n}`, n) && policyHas(`provider.${n}`, `${SYSTEM_DOMAIN}:dns.${suffix}`)) &&
    policyHas('providers', `${SYSTEM_DOMAIN}:instance`);
  if (upToDate) return;

  await writeDomain(ctx, SYSTEM, { domain: SYSTEM_DOMAIN, api: 'bootstrap' }, async (trx, modified) => {
    await ensureRoleMembers(trx, 'providers', names, modified);
    await ensureAssertion(trx, 'providers', 'launch', `${SYSTEM_DOMAIN}:instance`, modified);
    for (const n of names) {
      // DNS-suffix grants need the exact provider name as member (wildcards do not count there).
      await ensureRoleMembers(trx, `provider.${n}`, [n], modified);
      await ensureAssertion(trx, `provider.${n}`, 'launch', `${SYSTEM_DOMAIN}:dns.${suffix}`, modified);
    }
    return { result: undefined, details: { providers: names, dnsSuffix: suffix } };
  });
}

async function ensureService(trx: Trx, domain: string, name: string, endpoint: string | null, modified: string): Promise<void> {
  await trx
    .insertInto('services')
    .values({ domain, name, description: null, provider_endpoint: endpoint, modified })
    .onConflict((oc) => oc.columns(['domain', 'name']).doUpdateSet({ provider_endpoint: endpoint, modified }))
    .execute();
}

async function ensureRoleMembers(trx: Trx, role: string, members: string[], modified: string): Promise<void> {
  await trx
    .insertInto('roles')
    .values({ domain: SYSTEM_DOMAIN, name: role, trust: null, description: null, modified })
    .onConflict((oc) => oc.columns(['domain', 'name']).doNothing())
    .execute();
  for (const member_name of members) {
    await trx
      .insertInto('role_members')
      .values({ domain: SYSTEM_DOMAIN, role, member_name, expiration: null, system_disabled: 0, audit_ref: 'bootstrap' })
      .onConflict((oc) => oc.columns(['domain', 'role', 'member_name']).doNothing())
      .execute();
  }
}

/** A policy named like its role, granting `action` on `resource`. */
async function ensureAssertion(trx: Trx, name: string, action: string, resource: string, modified: string): Promise<void> {
  await trx
    .insertInto('policies')
    .values({ domain: SYSTEM_DOMAIN, name, description: null, case_sensitive: 0, modified })
    .onConflict((oc) => oc.columns(['domain', 'name']).doNothing())
    .execute();
  const has = await trx
    .selectFrom('assertions')
    .select('id')
    .where('domain', '=', SYSTEM_DOMAIN)
    .where('policy', '=', name)
    .where('action', '=', action)
    .where('resource', '=', resource)
    .executeTakeFirst();
  if (!has) {
    await trx
      .insertInto('assertions')
      .values({ domain: SYSTEM_DOMAIN, policy: name, role: `${SYSTEM_DOMAIN}:role.${name}`, resource, action, effect: 'ALLOW', case_sensitive: 0 })
      .execute();
  }
}
