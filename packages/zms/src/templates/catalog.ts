/**
 * The server's solution templates. `_domain_` becomes the target domain and
 * `_<param>_` each parameter value. The AWS ones follow Athenz's
 * docker/zms/conf/solution_templates.json; the `aws.ssh_login` role and policy
 * that Athenz adds along are left out: Tessera issues no SSH certificates.
 */
import type { Assertion } from '@tessera/core/model';

export interface TemplateRole {
  name: string;
  members: string[];
}

export interface TemplatePolicy {
  name: string;
  assertions: Assertion[];
}

export interface TemplateMetadata {
  templateName: string;
  description: string;
  currentVersion?: number;
  latestVersion: number;
  keywordsToReplace: string;
  timestamp: string;
  autoUpdate: boolean;
}

export interface TemplateDefinition {
  metadata: TemplateMetadata;
  /** Parameters the template needs (the keywords without underscores). */
  params: string[];
  roles: TemplateRole[];
  policies: TemplatePolicy[];
}

function launchProvider(templateName: string, description: string, member: string): TemplateDefinition {
  return {
    metadata: {
      templateName,
      description,
      latestVersion: 1,
      keywordsToReplace: '_service_',
      timestamp: '2026-01-01T00:00:00.000Z',
      autoUpdate: false,
    },
    params: ['service'],
    roles: [{ name: templateName, members: [member] }],
    policies: [
      {
        name: templateName,
        assertions: [
          { role: `_domain_:role.${templateName}`, resource: '_domain_:service._service_', action: 'launch', effect: 'ALLOW' },
        ],
      },
    ],
  };
}

export const TEMPLATES: Record<string, TemplateDefinition> = {
  aws_instance_launch_provider: launchProvider(
    'aws_instance_launch_provider',
    'AWS instance launch provider template',
    'athenz.aws.*',
  ),
  aws_ecs_instance_launch_provider: launchProvider(
    'aws_ecs_instance_launch_provider',
    'AWS ECS instance launch provider template',
    'athenz.aws-ecs.*',
  ),
  zts_instance_launch_provider: launchProvider(
    'zts_instance_launch_provider',
    'ZTS instance launch provider template',
    'sys.auth.zts',
  ),
};
