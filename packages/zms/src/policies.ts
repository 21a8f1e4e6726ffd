/** Policies and assertions. PUT policy replaces the assertions; PUT assertion adds one. */
import { badRequest, notFound } from '@tessera/core/errors';
import { policyResourceName, validAssertionRole } from '@tessera/core/names';
import type { Assertion, Effect, Policy } from '@tessera/core/model';
import { assertionFromRow } from '@tessera/store/domain-data';
import { insertRows } from '@tessera/store/insert-rows';
import type { Actor, ZmsContext } from './context.ts';
import { writeDomain, type Trx } from './domain-write.ts';
import { asBody, optArray, optBool, optString, type Body } from './body.ts';

/** Validates one assertion: role `<d>:role.<r>` (a bare role name is expanded), resource with a domain part. */
export function readAssertion(domain: string, raw: unknown, field = 'assertion'): Required<Omit<Assertion, 'id'>> {
  const body = asBody(raw);
  const effect = (optString(body, 'effect') ?? 'ALLOW').toUpperCase();
  if (effect !== 'ALLOW' && effect !== 'DENY') throw badRequest(`${field}.effect must be ALLOW or DENY`);
  const action = optString(body, 'action');
  if (!action) throw badRequest(`${field}.action is required (e.g. "launch"; globs * and ? allowed)`);
  let role = optString(body, 'role');
  if (!role) throw badRequest(`${field}.role is required (e.g. "${domain}:role.readers")`);
  if (!role.toLowerCase().includes(':role.')) role = `${domain}:role.${role}`;
  role = validAssertionRole(`${field}.role`, role);
  const resource = optString(body, 'resource');
  if (!resource || !resource.includes(':')) {
    throw badRequest(`${field}.resource must name its domain, like "${domain}:service.api" (got ${JSON.stringify(resource ?? '')})`);
  }
  const caseSensitive = optBool(body, 'caseSensitive') ?? false;
  return {
    role,
    action: caseSensitive ? action : action.toLowerCase(),
    resource: caseSensitive ? resource : resource.toLowerCase(),
    effect: effect as Effect,
    caseSensitive,
  };
}

function assertionRow(domain: string, policy: string, a: ReturnType<typeof readAssertion>) {
  return { domain, policy, role: a.role, resource: a.resource, action: a.action, effect: a.effect, case_sensitive: a.caseSensitive ? 1 : 0 };
}

function checkBodyName(domain: string, policy: string, body: Body): void {
  const name = optString(body, 'name');
  if (name === undefined) return;
  const lower = name.toLowerCase();
  if (lower !== policy && lower !== policyResourceName(domain, policy)) {
    throw badRequest(`putPolicy: policy name in the body (${name}) does not match the path (${policyResourceName(domain, policy)})`);
  }
}

async function requirePolicy(trx: Trx, domain: string, policy: string, api: string): Promise<void> {
  const row = await trx.selectFrom('policies').select('name').where('domain', '=', domain).where('name', '=', policy).executeTakeFirst();
  if (!row) throw notFound(`${api}: Unable to retrieve policy: ${policyResourceName(domain, policy)}`);
}

export async function putPolicy(ctx: ZmsContext, actor: Actor, domain: string, policy: string, raw: unknown): Promise<void> {
  if (policy === 'admin') throw badRequest('putPolicy: admin policy cannot be modified');
  const body = asBody(raw);
  checkBodyName(domain, policy, body);
  const assertions = (optArray(body, 'assertions') ?? []).map((a, i) => readAssertion(domain, a, `assertions[${i}]`));
  const description = optString(body, 'description') ?? null;
  await writeDomain(ctx, actor, { domain, api: 'putPolicy', kind: 'policy' }, async (trx, modified) => {
    await trx
      .insertInto('policies')
      .values({ domain, name: policy, description, case_sensitive: 0, modified })
      .onConflict((oc) => oc.columns(['domain', 'name']).doUpdateSet({ description, modified }))
      .execute();
    await trx.deleteFrom('assertions').where('domain', '=', domain).where('policy', '=', policy).execute();
    await insertRows(trx, 'assertions', assertions.map((a) => assertionRow(domain, policy, a)));
    return { result: undefined, details: { policy, assertions } };
  });
}

export async function deletePolicy(ctx: ZmsContext, actor: Actor, domain: string, policy: string): Promise<void> {
  if (policy === 'admin') throw badRequest('deletePolicy: admin policy cannot be deleted');
  await writeDomain(ctx, actor, { domain, api: 'deletePolicy', kind: 'policy' }, async (trx) => {
    await requirePolicy(trx, domain, policy, 'deletePolicy');
    await trx.deleteFrom('policies').where('domain', '=', domain).where('name', '=', policy).execute();
    return { result: undefined, details: { policy } };
  });
}

export async function putAssertion(ctx: ZmsContext, actor: Actor, domain: string, policy: string, raw: unknown): Promise<Assertion> {
  if (policy === 'admin') throw badRequest('putAssertion: admin policy cannot be modified');
  const a = readAssertion(domain, raw);
  return writeDomain(ctx, actor, { domain, api: 'putAssertion', kind: 'policy' }, async (trx, modified) => {
    await requirePolicy(trx, domain, policy, 'putAssertion');
    const row = await trx
      .insertInto('assertions')
      .values(assertionRow(domain, policy, a))
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx.updateTable('policies').set({ modified }).where('domain', '=', domain).where('name', '=', policy).execute();
    const assertion = assertionFromRow(row);
    return { result: assertion, details: { policy, added: assertion } };
  });
}

export async function deleteAssertion(ctx: ZmsContext, actor: Actor, domain: string, policy: string, id: number): Promise<void> {
  if (policy === 'admin') throw badRequest('deleteAssertion: admin policy cannot be modified');
  await writeDomain(ctx, actor, { domain, api: 'deleteAssertion', kind: 'policy' }, async (trx, modified) => {
    await requirePolicy(trx, domain, policy, 'deleteAssertion');
    const deleted = await trx
      .deleteFrom('assertions')
      .where('domain', '=', domain)
      .where('policy', '=', policy)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!deleted) throw notFound(`deleteAssertion: no assertion ${id} in ${policyResourceName(domain, policy)}`);
    await trx.updateTable('policies').set({ modified }).where('domain', '=', domain).where('name', '=', policy).execute();
    return { result: undefined, details: { policy, deleted: assertionFromRow(deleted) } };
  });
}

export function getPolicy(ctx: ZmsContext, domain: string, policy: string): Policy {
  const found = ctx.snapshots.get(domain)?.policies.contents.policies.find((p) => p.name === policyResourceName(domain, policy));
  if (!found) throw notFound(`getPolicy: Policy not found: ${policyResourceName(domain, policy)}`);
  return found;
}

export function parseAssertionId(value: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id < 0) throw badRequest(`assertion id must be a number, got "${value}"`);
  return id;
}

