/**
 * The provider's two launch checks, evaluated on the domain snapshots: the
 * provider must be a registered system provider (`launch` on
 * `sys.auth:instance`) and authorized by the tenant domain (`launch` on
 * `<domain>:service.<service>`, what Providers → Allow grants).
 */
import { evaluateAccess } from '@tessera/core/authz/evaluate-access';
import { forbidden } from '@tessera/core/errors';
import { claim, fact, refusal } from '@tessera/core/explained';
import type { ZtsContext } from './context.ts';

const TEMPLATE_FOR_PROVIDER: [prefix: string, template: string, label: string][] = [
  ['athenz.aws-ecs.', 'aws_ecs_instance_launch_provider', 'AWS ECS on EC2 (container instances)'],
  ['athenz.aws.', 'aws_instance_launch_provider', 'AWS EC2, EKS or Fargate (siad with an IAM role)'],
];

/** A system provider: may launch instances at all (`launch` on `sys.auth:instance`). */
export function isRegisteredProvider(ctx: ZtsContext, provider: string): boolean {
  return evaluateAccess({ principal: provider, action: 'launch', resource: 'sys.auth:instance' }, (d) => ctx.snapshots.get(d), ctx.now()).granted;
}

export function authorizeLaunch(ctx: ZtsContext, provider: string, domain: string, service: string): void {
  const lookup = (d: string) => ctx.snapshots.get(d);
  const now = ctx.now();
  if (!isRegisteredProvider(ctx, provider)) {
    throw forbidden(
      refusal('provider_not_registered')`provider '${claim('provider', provider)}' not authorized to launch instances in Athenz: it is not a registered system provider (a member of sys.auth:role.providers); use a configured provider such as athenz.aws.<region>, or ask a system administrator to add it`,
    );
  }
  if (!evaluateAccess({ principal: provider, action: 'launch', resource: `${domain}:service.${service}` }, lookup, now).granted) {
    const match = TEMPLATE_FOR_PROVIDER.find(([prefix]) => provider.startsWith(prefix));
    const fix = match
      ? ` To allow it: in the UI open domain ${domain} → Services → ${service} → Providers and click Allow for "${match[2]}", ` +
        `or run: zms-cli -d ${domain} set-domain-template ${match[1]} service=${service}`
      : ` A domain admin must grant launch on ${domain}:service.${service} to ${provider}.`;
    // A registered system provider from here on: a fact, not a claim.
    throw forbidden(refusal('launch_not_authorized')`provider '${fact('provider', provider)}' not authorized to launch ${domain}.${service} instances.${fix}`);
  }
}
