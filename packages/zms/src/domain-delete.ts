/** Deleting a domain: refused for system domains and while sub-domains exist. */
import { badRequest, notFound } from '@tessera/core/errors';
import type { Actor, ZmsContext } from './context.ts';
import { recordAudit } from './domain-write.ts';
import { nextModified } from './timestamps.ts';

const UNDELETABLE = new Set(['sys', 'sys.auth', 'sys.auth.audit', 'sys.auth.audit.org', 'sys.auth.audit.domain', 'user', 'athenz', 'athenz.aws', 'athenz.aws-ecs']);

export async function deleteDomain(ctx: ZmsContext, actor: Actor, name: string, api: string): Promise<void> {
  if (UNDELETABLE.has(name)) throw badRequest(`${api}: reserved system domain ${name} cannot be deleted`);
  await ctx.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('domains').select('modified').where('name', '=', name).executeTakeFirst();
    if (!row) throw notFound(`${api}: Domain not found: ${name}`);
    const subs = await trx
      .selectFrom('domains')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('name', 'like', `${name.replace(/[\\%_]/g, (c) => `\\${c}`)}.%`)
      .executeTakeFirstOrThrow();
    if (Number(subs.n) > 0) {
      throw badRequest(`${api}: Cannot delete domain ${name}: ${subs.n} subdomains of it exist (delete them first)`);
    }
    await trx.deleteFrom('domains').where('name', '=', name).execute();
    await recordAudit(trx, { domain: name, created: nextModified(row.modified, ctx.now()), actor, api, details: { deleted: name } });
  });
  await ctx.snapshots.refresh(name);
}
