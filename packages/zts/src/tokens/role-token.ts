/**
 * `GET /domain/{domain}/token?role=...`: Athenz's signed RoleToken string for
 * older clients (the main call of Athenz's Node ZTS client):
 *   v=Z1;d=<domain>;r=<role>[,<role>...][;c=1];p=<principal>;h=<host>;a=<salt>;t=<issued>;e=<expiry>;k=<key id>;i=<ip>;s=<signature>
 * The signature is SHA-256 with the ZTS token key over everything before
 * `;s=`, YBase64-encoded. Verify it with the key `k` from /oauth2/keys.
 */
import { randomBytes, sign } from 'node:crypto';
import { hostname } from 'node:os';
import { badRequest } from '@tessera/core/errors';
import { isEntityName } from '@tessera/core/names';
import { ybase64Encode } from '@tessera/core/ybase64';
import type { ZtsContext } from '../context.ts';
import { requireCaller, type TokenCaller } from './access-token.ts';
import { domainOf, grantedRoles, tokenLifetimeSeconds } from './token-roles.ts';

export interface RoleToken {
  token: string;
  expiryTime: number;
}

function seconds(v: string | undefined, name: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`Invalid ${name} "${v}": give whole seconds`);
  return n;
}

export function issueRoleToken(
  ctx: ZtsContext,
  caller: TokenCaller & { ip: string },
  domain: string,
  query: { role?: string; minExpiryTime?: string; maxExpiryTime?: string; proxyForPrincipal?: string },
): RoleToken {
  const { principal } = requireCaller(ctx, caller);
  if (query.proxyForPrincipal) throw badRequest(`getRoleToken: Principal: ${principal} not authorized for proxy role token request`);
  const requested = query.role ? query.role.toLowerCase().split(',').map((r) => r.trim()).filter(Boolean) : undefined;
  for (const r of requested ?? []) if (!isEntityName(r)) throw badRequest(`getRoleToken: invalid role name "${r}" in role=${query.role}`);
  const min = seconds(query.minExpiryTime, 'minExpiryTime');
  const max = seconds(query.maxExpiryTime, 'maxExpiryTime');

  const data = domainOf(ctx, domain);
  const roles = grantedRoles(ctx, data, principal, requested);
  // Athenz: the max when given, else the min when above the default.
  const wanted = max && max > 0 ? max : min && min > ctx.config.tokenDefaultSeconds ? min : undefined;
  const lifetime = tokenLifetimeSeconds(ctx, data, wanted);
  const issued = Math.floor(ctx.now().getTime() / 1000);
  const key = ctx.tokenKeys.current;
  const parts = [
    'v=Z1',
    `d=${domain}`,
    `r=${roles.join(',')}`,
    ...(requested ? [] : ['c=1']),
    `p=${principal}`,
    `h=${hostname()}`,
    `a=${randomBytes(8).toString('hex')}`,
    `t=${issued}`,
    `e=${issued + lifetime}`,
    `k=${key.kid}`,
    ...(caller.ip ? [`i=${caller.ip}`] : []),
  ];
  const unsigned = parts.join(';');
  const signature = sign('sha256', Buffer.from(unsigned), key.privateKey);
  return { token: `${unsigned};s=${ybase64Encode(signature)}`, expiryTime: issued + lifetime };
}
