/** Reads served from the in-memory snapshots. */
import { notFound } from '@tessera/core/errors';
import type { DomainData } from '@tessera/core/model';
import type { ZmsContext } from './context.ts';

export function domainData(ctx: ZmsContext, name: string): DomainData {
  const d = ctx.snapshots.get(name);
  if (!d) throw notFound(`Domain not found: ${name}`);
  return d;
}

export const shortName = (full: string): string => full.slice(full.indexOf('.', full.indexOf(':')) + 1);

export async function domainHistory(ctx: ZmsContext, domain: string, limit: number) {
  const rows = await ctx.db.selectFrom('audit_log').selectAll().where('domain', '=', domain).orderBy('id', 'desc').limit(limit).execute();
  return {
    entries: rows.map((r) => ({
      id: Number(r.id),
      created: r.created,
      principal: r.principal,
      api: r.api,
      details: JSON.parse(r.details) as unknown,
      ...(r.audit_ref ? { auditRef: r.audit_ref } : {}),
    })),
  };
}
