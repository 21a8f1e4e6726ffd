/**
 * The instances of a service, from the certificate records ZTS keeps in the
 * same store (a Tessera extension for the UI), and revoking one.
 */
import { notFound } from '@tessera/core/errors';
import type { ZmsContext } from './context.ts';

export async function listInstances(ctx: ZmsContext, domain: string, service: string) {
  const rows = await ctx.db
    .selectFrom('cert_records')
    .selectAll()
    .where('service', '=', `${domain}.${service}`)
    .orderBy('current_time', 'desc')
    .execute();
  return {
    instances: rows.map((r) => ({
      instanceId: r.instance_id,
      provider: r.provider,
      issued: r.issued_time,
      lastRefresh: r.current_time,
      expires: r.expiry_time,
      clientIp: r.current_ip,
      revoked: r.current_serial === '-1',
    })),
  };
}

/** Deleting the record revokes the instance: its certificate can no longer refresh. */
export async function revokeInstance(ctx: ZmsContext, domain: string, service: string, provider: string, instanceId: string): Promise<void> {
  const res = await ctx.db
    .deleteFrom('cert_records')
    .where('service', '=', `${domain}.${service}`)
    .where('provider', '=', provider)
    .where('instance_id', '=', instanceId)
    .executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) throw notFound(`no instance ${instanceId} of ${domain}.${service} from ${provider}`);
}
