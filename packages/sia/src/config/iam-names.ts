/** Identities in AWS names: the IAM role ARN and Athenz's `<domain>.<service>-service` role name. */

/** `sports.api-service` (or `sports.api-service@profile`) → sports / api: strip `-service`, split at the last dot. */
export function identityFromRoleName(roleName: string): { domain: string; service: string } | undefined {
  const name = roleName.split('@')[0];
  if (!name.endsWith('-service')) return undefined;
  return splitDomainService(name.slice(0, -'-service'.length));
}

export function splitDomainService(name: string): { domain: string; service: string } | undefined {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return undefined;
  return { domain: name.slice(0, dot), service: name.slice(dot + 1) };
}

/**
 * `arn:aws:iam::<acct>:role/[<path>/]<domain>.<service>` → account, path, domain, service.
 * Unlike Athenz, a role path is split off instead of becoming part of the domain.
 */
export function parseIamRoleArn(arn: string): { account: string; path?: string; name: string } | undefined {
  const m = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(arn);
  if (!m) return undefined;
  const parts = m[2].split('/');
  const name = parts.pop()!;
  if (!name) return undefined;
  return { account: m[1], name, ...(parts.length > 0 ? { path: parts.join('/') } : {}) };
}
