/**
 * Finds a provider by name: the ZMS service `<domain>.<service>` of that name,
 * whose provider endpoint names the implementation. The built-in AWS providers
 * answer to Athenz's class names, so Athenz provider data works unchanged.
 */
import { badRequest } from '@tessera/core/errors';
import { claim, refusal } from '@tessera/core/explained';
import { splitServiceName } from '@tessera/core/names';
import type { DomainSnapshots } from '@tessera/store/domain-snapshots';
import type { InstanceProvider } from './instance-provider.ts';

export type ProviderFactory = (providerName: string) => InstanceProvider;

export class ProviderRegistry {
  private readonly instances = new Map<string, InstanceProvider>();

  constructor(
    private readonly snapshots: DomainSnapshots,
    /** Keyed by provider endpoint, e.g. `class://…InstanceAWSProvider`. */
    private readonly factories: Record<string, ProviderFactory>,
  ) {}

  get(providerName: string): InstanceProvider {
    const name = splitServiceName(providerName);
    const service = name && this.snapshots.get(name.domain)?.services.find((s) => s.name === providerName);
    const endpoint = service?.providerEndpoint;
    const factory = endpoint ? this.factories[endpoint] : undefined;
    if (!endpoint || !factory) {
      const why = !service ? 'no such provider service in ZMS' : !endpoint ? 'the service has no provider endpoint' : `unsupported provider endpoint ${endpoint}`;
      throw badRequest(refusal('unknown_provider')`unable to get instance for provider: ${claim('provider', providerName)} (${why})`);
    }
    const key = `${endpoint}-${providerName}`;
    let instance = this.instances.get(key);
    if (!instance) {
      instance = factory(providerName);
      this.instances.set(key, instance);
    }
    return instance;
  }
}
