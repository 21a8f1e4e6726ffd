/** `DELETE /instance/...`: by the provider itself, or a principal with `delete` on `<domain>:instance.<id>`. */
import { evaluateAccess } from '@tessera/core/authz/evaluate-access';
import { forbidden, notFound } from '@tessera/core/errors';
import { noPrincipalRefusal, type Caller, type ZtsContext } from './context.ts';
import { revokeCertRecord } from '@tessera/store/revoked-certificates';
import { requestNames } from './instance-request.ts';
import { authHint } from './principal-token-auth.ts';

export async function deleteInstance(
  ctx: ZtsContext,
  caller: Caller,
  path: { provider: string; domain: string; service: string; instanceId: string },
): Promise<void> {
  const { provider, domain, service } = requestNames(path);
  if (!caller.principal) throw noPrincipalRefusal(caller, `Authentication required: ${authHint(ctx)}`);
  const allowed =
    caller.principal === provider ||
    evaluateAccess({ principal: caller.principal, action: 'delete', resource: `${domain}:instance.${path.instanceId}` }, (d) => ctx.snapshots.get(d), ctx.now()).granted;
  if (!allowed) {
    throw forbidden(`principal not authorized to delete the requested instance record (needs delete on ${domain}:instance.${path.instanceId})`);
  }
  // The instance is gone: its certificates go on the CRL.
  if (!(await revokeCertRecord(ctx.db, { provider, instanceId: path.instanceId, service: `${domain}.${service}` }, 'cessationOfOperation', ctx.now()))) {
    throw notFound(`no instance ${path.instanceId} of ${domain}.${service} registered by ${provider}`);
  }
  await ctx.revocations.reloadSerials();
}
