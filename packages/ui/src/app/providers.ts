/**
 * Identity providers offered in the Services tab's Providers column. Each is
 * "apply template <template> with service=<name>", and its status is whether
 * ZMS grants `launch` on the service to <principal>. Unlike Athenz's default
 * (which checks athens.aws.us-east-1 while the template grants athenz.aws.*),
 * the principal checked here is one the template's role really matches.
 */
export interface ProviderConfig {
  /** The ZMS solution template applied by Allow. */
  template: string;
  label: string;
  /** The provider service whose `launch` access is checked. */
  principal: string;
}

export const DEFAULT_PROVIDERS: ProviderConfig[] = [
  {
    template: 'aws_instance_launch_provider',
    label: 'AWS EC2/EKS/Fargate launches instances for the service',
    principal: 'athenz.aws.us-west-2',
  },
  {
    template: 'aws_ecs_instance_launch_provider',
    label: 'AWS ECS launches containers for the service',
    principal: 'athenz.aws-ecs.us-west-2',
  },
];

/** The server's list (GET /ui-config.json), or the defaults when it has none. */
export function providersFrom(config: unknown): ProviderConfig[] {
  const list = (config as { providers?: unknown } | null)?.providers;
  if (!Array.isArray(list)) return DEFAULT_PROVIDERS;
  const valid = list.filter(
    (p): p is ProviderConfig =>
      typeof p === 'object' && p !== null && ['template', 'label', 'principal'].every((k) => typeof (p as Record<string, unknown>)[k] === 'string'),
  );
  return valid.length > 0 ? valid : DEFAULT_PROVIDERS;
}
