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

/** Athenz's two AWS providers, checked against the provider service of `region` (the templates grant every region). */
export function defaultProviders(region = 'us-west-2'): ProviderConfig[] {
  return [
    {
      template: 'aws_instance_launch_provider',
      label: 'AWS EC2/EKS/Fargate launches instances for the service',
      principal: `athenz.aws.${region}`,
    },
    {
      template: 'aws_ecs_instance_launch_provider',
      label: 'AWS ECS launches containers for the service',
      principal: `athenz.aws-ecs.${region}`,
    },
  ];
}

export const DEFAULT_PROVIDERS = defaultProviders();

/** Checks a configured list (the server's --ui-providers file); the error says which entry is wrong. */
export function parseProviders(value: unknown): ProviderConfig[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error('expected a non-empty JSON array of {"template", "label", "principal"}');
  return value.map((p: unknown, i) => {
    const entry = p as Record<string, unknown> | null;
    const missing = ['template', 'label', 'principal'].filter((k) => typeof entry?.[k] !== 'string' || !entry[k]);
    if (missing.length > 0) throw new Error(`entry ${i + 1} lacks ${missing.join(', ')} (each entry needs "template", "label" and "principal" strings)`);
    return { template: entry!.template as string, label: entry!.label as string, principal: entry!.principal as string };
  });
}

/** The server's list (GET /ui-config.json), or the defaults when it sent none the server would accept. */
export function providersFrom(config: unknown): ProviderConfig[] {
  try {
    return parseProviders((config as { providers?: unknown } | null)?.providers);
  } catch {
    return DEFAULT_PROVIDERS;
  }
}
