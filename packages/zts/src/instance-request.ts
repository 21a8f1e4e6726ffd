/** Steps shared by register and refresh: request names, domain and service checks, the provider call, signing. */
import { ApiError, badRequest, notFound } from '@tessera/core/errors';
import { serviceNameProblem, validName } from '@tessera/core/names';
import { claim, fact, refusal } from '@tessera/core/explained';
import type { DomainData } from '@tessera/core/model';
import { backdated } from '@tessera/core/x509/clock-skew';
import type { Caller, ZtsContext } from './context.ts';
import type { InstanceConfirmation, ProviderResult } from './providers/instance-provider.ts';
import { ProviderError } from './providers/instance-provider.ts';
import type { ValidatedServiceCsr } from './service-csr.ts';
import { serviceCertMinutes } from './lifetime.ts';

export function tenantDomain(ctx: ZtsContext, domain: string, service: string): DomainData {
  const data = ctx.snapshots.get(domain);
  if (!data) throw notFound(`Domain not found: ${domain}`);
  if (data.enabled === false) throw notFound(`Domain not found: ${domain} (the domain is disabled)`);
  if (!data.services.some((s) => s.name === `${domain}.${service}`)) {
    // Suggest adding it only when ZMS would accept the name.
    const problem = serviceNameProblem(service);
    throw badRequest(
      problem
        ? `Service not registered in domain: ${domain}.${service}, and no service can have this name (${problem}): name the workload's IAM role after a service the domain can have, <domain>.<service>-service`
        : `Service not registered in domain: ${domain}.${service}; add it in the UI (Services → Add a Service) or run: zms-cli -d ${domain} add-service ${service}`,
    );
  }
  return data;
}

export function requestNames(raw: { provider?: unknown; domain?: unknown; service?: unknown }) {
  return {
    provider: validName('service', 'provider', raw.provider),
    domain: validName('domain', 'domain', raw.domain),
    service: validName('simple', 'service', raw.service),
  };
}

export function optMinutes(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw badRequest(`${field} must be a whole number of minutes`);
  return value;
}

export async function callProvider(
  ctx: ZtsContext,
  caller: Caller,
  kind: 'confirm' | 'refresh',
  base: { provider: string; domain: string; service: string; attestationData: string },
  data: DomainData,
  v: ValidatedServiceCsr,
  instanceId: string,
): Promise<ProviderResult> {
  const provider = ctx.providers.get(base.provider);
  const confirmation: InstanceConfirmation = {
    ...base,
    attributes: {
      instanceId,
      clientIP: caller.ip,
      sanDNS: v.forwardedDns.join(','),
      sanURI: v.names.uris.join(','),
      ...(data.account ? { awsAccount: data.account } : {}),
      ...(caller.principal ? { principal: caller.principal } : {}),
    },
  };
  try {
    return await provider[kind](confirmation);
  } catch (e) {
    if (e instanceof ProviderError) {
      const inner = e.explanation ? { message: e.message, explanation: e.explanation } : e.message;
      throw new ApiError(
        e.status,
        refusal(e.explanation?.reason ?? 'attestation_refused')`unable to verify attestation data: ${inner} client: ${claim('userAgent', caller.userAgent ?? 'unknown')} clientIP: ${fact('clientIp', caller.ip)}`,
      );
    }
    throw e;
  }
}

export async function signServiceCert(
  ctx: ZtsContext,
  data: DomainData,
  v: ValidatedServiceCsr,
  result: ProviderResult,
  requestMins: number | undefined,
) {
  const minutes = serviceCertMinutes({
    providerMins: result.certExpiryTime,
    requestMins,
    domainCapMins: data.serviceCertExpiryMins,
    maxMins: ctx.config.maxCertMins,
  });
  const now = ctx.now();
  // Built from what ZTS decided (service-csr.ts, cert-names.ts); the CSR gives only its public key.
  const signed = await ctx.signer.sign({
    publicKeyPem: v.csr.publicKeyPem,
    subject: v.names.subject,
    dnsNames: v.names.dnsNames,
    uris: v.names.uris,
    notBefore: backdated(now),
    notAfter: new Date(now.getTime() + minutes * 60_000),
    usage: result.certUsage === 'client' ? 'client' : 'client-server',
  });
  return { ...signed, notAfter: new Date(now.getTime() + minutes * 60_000) };
}
