/**
 * `POST /instance/{provider}/{domain}/{service}/{instanceId}`: a new
 * certificate for a registered instance, over mTLS with its current one and
 * with fresh attestation. A certificate that is neither the current nor the
 * previous one revokes the instance: it was copied.
 */
import { badRequest, forbidden } from '@tessera/core/errors';
import { fact, refusal } from '@tessera/core/explained';
import { noPrincipalRefusal, type Caller, type ZtsContext } from './context.ts';
import { authorizeLaunch } from './launch-authorization.ts';
import { instanceIdOf, validateServiceCsr } from './service-csr.ts';
import { findCertRecord, REVOKED, updateCertRecord } from './cert-records.ts';
import { recordRevocations, recordSerials } from '@tessera/store/revoked-certificates';
import { callProvider, optMinutes, requestNames, signServiceCert, tenantDomain } from './instance-request.ts';
import type { InstanceIdentity } from './instance-register.ts';

export async function refreshInstance(
  ctx: ZtsContext,
  caller: Caller,
  path: { provider: string; domain: string; service: string; instanceId: string },
  body: Record<string, unknown>,
): Promise<InstanceIdentity> {
  const { provider, domain, service } = requestNames(path);
  const full = `${domain}.${service}`;
  if (!caller.principal || !caller.cert) {
    throw noPrincipalRefusal(caller, 'refresh needs the current service certificate: connect with it as the TLS client certificate');
  }
  const data = tenantDomain(ctx, domain, service);
  if (typeof body.csr !== 'string' || body.csr === '') throw badRequest('no csr provided');
  if (caller.principal !== full) throw badRequest(refusal('principal_mismatch')`Principal mismatch: ${full} vs. ${fact('certificatePrincipal', caller.principal)}`);
  authorizeLaunch(ctx, provider, domain, service);

  const v = await validateServiceCsr({ csrPem: body.csr, domain: data, service, provider, sysAuth: ctx.snapshots.get('sys.auth'), allowedO: ctx.config.certAllowedO });
  const current = caller.cert;
  if (v.instanceId !== path.instanceId || instanceIdOf(current.dnsNames, current.uris) !== path.instanceId) {
    throw badRequest('CSR validation failed - instance id mismatch: the CSR, the path and the current certificate must name the same instance');
  }
  const attestationData = typeof body.attestationData === 'string' ? body.attestationData : '';
  const result = await callProvider(ctx, caller, 'refresh', { provider, domain, service, attestationData }, data, v, path.instanceId);

  const record = await findCertRecord(ctx.db, { provider, instanceId: path.instanceId, service: full });
  if (!record) throw forbidden('Unable to find certificate record: the instance is not registered (or was deleted); register it again');
  const serial = current.serialHex;
  const retryUntil = Date.parse(record.current_time) + ctx.config.refreshRetryGraceSeconds * 1000;
  if (serial === record.current_serial && serial !== REVOKED) {
    record.prev_serial = record.current_serial;
    record.prev_ip = record.current_ip;
    record.prev_time = record.current_time;
  } else if (serial === record.prev_serial && serial !== REVOKED && ctx.now().getTime() <= retryUntil) {
    // A retry: the client may not have received the last certificate. Keep prev as is.
  } else {
    // A copy: every certificate of the instance, and the one presented, goes on the CRL.
    const at = ctx.now();
    await recordRevocations(ctx.db, [
      ...recordSerials(record, 'keyCompromise', at),
      { serial, service: full, revoked_time: at.toISOString(), reason: 'keyCompromise', expiry_time: current.notAfter.toISOString() },
    ]);
    record.current_serial = REVOKED;
    record.prev_serial = REVOKED;
    await updateCertRecord(ctx.db, record);
    await ctx.revocations.reloadSerials();
    throw forbidden('Certificate revoked: this certificate is not the latest one issued to the instance; the instance must register again');
  }

  const cert = await signServiceCert(ctx, data, v, result, optMinutes(body.expiryTime, 'expiryTime'));
  await updateCertRecord(ctx.db, {
    ...record,
    current_serial: cert.serialHex,
    current_ip: caller.ip,
    current_time: ctx.now().toISOString(),
    expiry_time: cert.notAfter.toISOString(),
  });
  return {
    provider,
    name: full,
    instanceId: path.instanceId,
    x509Certificate: cert.certPem,
    x509CertificateSigner: ctx.signer.caBundlePem(),
  };
}
