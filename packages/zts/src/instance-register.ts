/** `POST /instance`: a workload's first certificate, vouched for by its provider. */
import { badRequest } from '@tessera/core/errors';
import { isDomainName } from '@tessera/core/names';
import type { Caller, ZtsContext } from './context.ts';
import { authorizeLaunch } from './launch-authorization.ts';
import { validateServiceCsr } from './service-csr.ts';
import { findCertRecord, putCertRecord } from './cert-records.ts';
import { recordTakeover, takeoverOf, type WarnLog } from './instance-events.ts';
import { callProvider, optMinutes, requestNames, signServiceCert, tenantDomain } from './instance-request.ts';

export interface InstanceIdentity {
  provider: string;
  name: string;
  instanceId: string;
  x509Certificate: string;
  x509CertificateSigner: string;
}

export interface RegisterCheck {
  provider: string;
  name: string;
  instanceId: string;
  checks: 'passed';
}

/**
 * Tessera's check-only register (`Tessera-Check-Only: true`, for `siad -cmd
 * diagnose`): every check of a register, refused with the same status and
 * message, but nothing is signed and no certificate record is written.
 */
export async function checkInstanceRegister(ctx: ZtsContext, caller: Caller, body: Record<string, unknown>): Promise<RegisterCheck> {
  const { provider, domain, service, v } = await checkRegister(ctx, caller, body);
  return { provider, name: `${domain}.${service}`, instanceId: v.instanceId, checks: 'passed' };
}

/**
 * The checks of a register: names, tenant domain and service, launch
 * authorization, the request's own fields, CSR, provider attestation. All of
 * them come before anything is signed.
 */
async function checkRegister(ctx: ZtsContext, caller: Caller, body: Record<string, unknown>) {
  const { provider, domain, service } = requestNames(body);
  const data = tenantDomain(ctx, domain, service);
  authorizeLaunch(ctx, provider, domain, service);
  const attestationData = body.attestationData;
  if (typeof attestationData !== 'string' || attestationData === '') {
    throw badRequest('attestation data is required for x509 certificate request');
  }
  const hostname = hostnameOf(body);
  const expiryMins = optMinutes(body.expiryTime, 'expiryTime');
  const fallback = typeof body.x509CertInstanceId === 'string' ? body.x509CertInstanceId : undefined;
  const v = await validateServiceCsr({
    csrPem: body.csr as string, domain: data, service, provider, sysAuth: ctx.snapshots.get('sys.auth'), allowedO: ctx.config.certAllowedO, fallbackInstanceId: fallback,
  });
  const result = await callProvider(ctx, caller, 'confirm', { provider, domain, service, attestationData }, data, v, v.instanceId);
  return { provider, domain, service, data, v, result, hostname, expiryMins };
}

/** The optional host name the agent sent: a DomainName, as Athenz's RDL types it; kept to show with the instance. */
function hostnameOf(body: Record<string, unknown>): string | null {
  const h = body.hostname;
  if (h === undefined || h === null || h === '') return null;
  if (typeof h !== 'string' || !isDomainName(h)) {
    throw badRequest(`hostname ${JSON.stringify(String(h)).slice(0, 80)} is not valid: dot-separated parts of letters, digits, "_" and "-", or leave it out`);
  }
  return h.toLowerCase();
}

export async function registerInstance(
  ctx: ZtsContext,
  caller: Caller,
  body: Record<string, unknown>,
  log: WarnLog = { warn: () => {} },
): Promise<InstanceIdentity> {
  const { provider, domain, service, data, v, result, hostname, expiryMins } = await checkRegister(ctx, caller, body);
  const cert = await signServiceCert(ctx, data, v, result, expiryMins);

  if (result.certRefresh !== false) {
    const key = { provider, instanceId: v.instanceId, service: `${domain}.${service}` };
    const takeover = takeoverOf(await findCertRecord(ctx.db, key), { ip: caller.ip, identity: result.attestedIdentity, time: ctx.now() });
    const now = ctx.now().toISOString();
    await putCertRecord(ctx.db, {
      provider,
      instance_id: v.instanceId,
      service: `${domain}.${service}`,
      current_serial: cert.serialHex,
      current_ip: caller.ip,
      current_time: now,
      prev_serial: cert.serialHex,
      prev_ip: caller.ip,
      prev_time: now,
      expiry_time: cert.notAfter.toISOString(),
      issued_time: now,
      hostname,
      client_cert: result.certUsage === 'client' ? 1 : 0,
      sia_provider: /SIA-([^ ]+)/.exec(caller.userAgent ?? '')?.[1] ?? null,
      attested_identity: result.attestedIdentity ?? null,
      takeover_time: takeover?.time ?? null,
      takeover_prev_ip: takeover?.previousIp ?? null,
      takeover_detail: takeover?.detail ?? null,
    });
    // Athenz lets the newest register win; Tessera does too, but says so where the domain's admins look.
    if (takeover) await recordTakeover(ctx.db, log, { ...takeover, domain, service, provider, instanceId: v.instanceId });
  }
  return {
    provider,
    name: `${domain}.${service}`,
    instanceId: v.instanceId,
    x509Certificate: cert.certPem,
    x509CertificateSigner: ctx.signer.caBundlePem(),
  };
}
