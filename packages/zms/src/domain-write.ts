/**
 * Every change to a domain goes through writeDomain: one transaction that does
 * the work, bumps the domain's `modified` and writes the audit record. Nothing
 * is left half-written when the work throws.
 */
import type { Transaction } from 'kysely';
import type { Database } from '@tessera/store/schema';
import { badRequest, notFound } from '@tessera/core/errors';
import type { Actor, ZmsContext } from './context.ts';
import { nextModified } from './timestamps.ts';

export type Trx = Transaction<Database>;

export interface DomainChange {
  domain: string;
  api: string;
  /** Object kinds whose writes need an audit reference in audit-enabled domains. */
  kind?: 'role' | 'policy' | 'service' | 'domain' | 'template';
}

const AUDITED_KINDS = new Set(['role']);

export async function writeDomain<T>(
  ctx: ZmsContext,
  actor: Actor,
  change: DomainChange,
  work: (trx: Trx, modified: string) => Promise<{ result: T; details: Record<string, unknown> }>,
): Promise<T> {
  const result = await ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('domains')
      .select(['modified', 'audit_enabled'])
      .where('name', '=', change.domain)
      .$if(ctx.dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
    if (!row) throw notFound(`${change.api}: Domain not found: ${change.domain}`);
    if (row.audit_enabled && change.kind && AUDITED_KINDS.has(change.kind) && !actor.auditRef) {
      throw badRequest(
        `${change.api}: Audit reference required for domain: ${change.domain} (send a Y-Audit-Ref header saying why)`,
      );
    }
    const modified = nextModified(row.modified, ctx.now());
    const { result, details } = await work(trx, modified);
    await trx.updateTable('domains').set({ modified }).where('name', '=', change.domain).execute();
    await recordAudit(trx, { domain: change.domain, created: modified, actor, api: change.api, details });
    return result;
  });
  await ctx.snapshots.refresh(change.domain);
  return result;
}

export async function recordAudit(
  trx: Trx,
  entry: { domain: string; created: string; actor: Actor; api: string; details: Record<string, unknown> },
): Promise<void> {
  await trx
    .insertInto('audit_log')
    .values({
      domain: entry.domain,
      created: entry.created,
      principal: entry.actor.principal,
      api: entry.api,
      details: JSON.stringify(entry.details),
      audit_ref: entry.actor.auditRef ?? null,
    })
    .execute();
}
