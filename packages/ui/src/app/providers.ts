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

/**
 * Athenz's two AWS providers, checked against the provider service of `region` (the templates grant every region).
 * athenz.aws is for siad holding an IAM role: EC2 instances, EKS pods and Fargate tasks. athenz.aws-ecs is Athenz's
 * provider for containers on ECS container instances (ECS on EC2, siad given the ECS metadata file).
 */
export function defaultProviders(region = 'us-west-2'): ProviderConfig[] {
  return [
    {
      template: 'aws_instance_launch_provider',
      label: 'AWS EC2, EKS or Fargate (siad with an IAM role)',
      principal: `athenz.aws.${region}`,
    },
    {
      template: 'aws_ecs_instance_launch_provider',
      label: 'AWS ECS on EC2 (container instances)',
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

/** What the server tells the app besides the providers: where ZTS listens, for the siad command in Next steps. */
export interface UiConfig {
  providers: ProviderConfig[];
  /** ZTS's port on the same host as the UI; absent when the server did not say (then 8443, Tessera's default). */
  ztsPort?: number;
  /** The DNS suffix ZTS puts in certificates (siad -dnsdomains). */
  dnsSuffix?: string;
}

export const DEFAULT_ZTS_PORT = 8443;
export const DEFAULT_DNS_SUFFIX = 'aws.athenz.cloud';

/** GET /ui-config.json, checked: anything missing or malformed falls back to the defaults. */
export function uiConfigFrom(config: unknown): UiConfig {
  const c = (config ?? {}) as { ztsPort?: unknown; dnsSuffix?: unknown };
  return {
    providers: providersFrom(config),
    ...(Number.isInteger(c.ztsPort) && (c.ztsPort as number) > 0 ? { ztsPort: c.ztsPort as number } : {}),
    ...(typeof c.dnsSuffix === 'string' && c.dnsSuffix ? { dnsSuffix: c.dnsSuffix } : {}),
  };
}
