/** `GET /access/...`: may a principal perform an action on a resource? */
import { evaluateAccess } from '@tessera/core/authz/evaluate-access';
import { badRequest, forbidden, notFound } from '@tessera/core/errors';
import { isMemberName } from '@tessera/core/names';
import type { ZmsContext } from './context.ts';

export interface AccessRequest {
  action: string;
  resource: string;
  /** Defaults to the caller. */
  principal?: string;
  trustDomain?: string;
}

export function checkAccess(ctx: ZmsContext, caller: string, req: AccessRequest): { granted: boolean } {
  const action = req.action.toLowerCase();
  const resource = req.resource.toLowerCase();
  const principal = (req.principal || caller).toLowerCase();
  if (!action) throw badRequest('getAccessCheck: action is required');
  if (!resource.includes(':')) {
    throw badRequest(`getAccessCheck: resource must be "<domain>:<entity>", got "${req.resource}"`);
  }
  if (!isMemberName(principal) || principal.includes('*')) {
    throw badRequest(`getAccessCheck: Invalid check principal value specified: ${principal}`);
  }
  const result = evaluateAccess(
    { principal, action, resource, trustDomain: req.trustDomain?.toLowerCase() || undefined },
    (d) => ctx.snapshots.get(d),
    ctx.now(),
  );
  if (result.reason === 'domain-not-found') throw notFound(`getAccessCheck: Resource Domain not found: '${result.domain}'`);
  if (result.reason === 'domain-disabled') throw forbidden(`getAccessCheck: Disabled domain: '${result.domain}'`);
  return { granted: result.granted };
}
