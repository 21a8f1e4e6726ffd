/**
 * DNS suffixes each provider may put in certificates: in `sys.auth`, an ALLOW
 * `launch` assertion on `sys.auth:dns.<suffix>` gives the suffix to every
 * literal member of its role (wildcard members do not count, as in Athenz).
 */
import type { DomainData } from '@tessera/core/model';

export function providerDnsSuffixes(sysAuth: DomainData | undefined, provider: string): string[] {
  if (!sysAuth) return [];
  const suffixes = new Set<string>();
  for (const policy of sysAuth.policies.contents.policies) {
    if (policy.active === false) continue;
    for (const a of policy.assertions) {
      if (a.action !== 'launch' || (a.effect ?? 'ALLOW') !== 'ALLOW' || !a.resource.startsWith('sys.auth:dns.')) continue;
      const role = sysAuth.roles.find((r) => r.name === a.role);
      if (role?.roleMembers?.some((m) => m.memberName === provider)) suffixes.add(a.resource.slice('sys.auth:dns.'.length));
    }
  }
  return [...suffixes];
}
