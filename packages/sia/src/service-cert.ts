/**
 * The service certificate: register with a new key, refresh over mTLS with
 * the files on disk, or decide which of the two the files allow.
 */
import { hostname } from 'node:os';
import { isDomainName } from '@tessera/core/names';
import { parseCertificate } from '@tessera/core/x509/certificate';
import { keyMatchesCertificate } from '@tessera/core/x509/keys';
import type { ServiceConfig } from './config/types.ts';
import { AwsIdentity } from './aws-identity.ts';
import { CommandError, commit, nameOf, newKey, refusal, type Agent, type CertState } from './agent.ts';
import { buildCsr, k8sDnsNames, serviceCsrNames } from './csr.ts';
import { CERT_MODE, KEY_MODE, readIfExists, type FileWrite } from './files.ts';
import { ZtsRefusal, type InstanceIdentity } from './zts-client.ts';
import { readPodToken } from './pod-token.ts';

export type FileCheck = { usable: true; keyPem: string; certPem: string; notAfter: Date } | { usable: false; reason: string };

/** Whether the service's files can authenticate a refresh: present, matching, unexpired, for this instance. */
export function inspectService(a: Agent, svc: ServiceConfig): FileCheck {
  const keyPem = readIfExists(svc.keyFile);
  const certPem = readIfExists(svc.certFile);
  if (!keyPem || !certPem) return { usable: false, reason: `no ${!keyPem ? 'key' : 'certificate'} file yet (${!keyPem ? svc.keyFile : svc.certFile})` };
  let info;
  try {
    info = parseCertificate(certPem);
  } catch {
    return { usable: false, reason: `${svc.certFile} is not a certificate` };
  }
  if (!keyMatchesCertificate(keyPem, certPem)) return { usable: false, reason: `${svc.keyFile} does not match ${svc.certFile}` };
  if (info.commonName !== nameOf(a, svc)) return { usable: false, reason: `${svc.certFile} is for ${info.commonName}, not ${nameOf(a, svc)}` };
  // A minute of margin: a certificate about to expire would fail the TLS handshake on the way.
  if (info.notAfter.getTime() - a.now().getTime() < 60_000) return { usable: false, reason: `${svc.certFile} expired at ${info.notAfter.toISOString()}` };
  const instanceUri = `athenz://instanceid/${a.provider}/${a.workload.instanceId}`;
  if (!info.uris.includes(instanceUri)) return { usable: false, reason: `${svc.certFile} belongs to another instance (not ${instanceUri})` };
  return { usable: true, keyPem, certPem, notAfter: info.notAfter };
}

export type AttestationMethod = 'eks-token' | 'aws-token' | 'sts';

/** The pod's projected token for the primary service (its service account is `<domain>.<service>`), if the pod has one. */
export function projectedToken(a: Agent, svc: ServiceConfig): ReturnType<typeof readPodToken> {
  return svc.name === a.config.service ? readPodToken(a.workload.platform, a.env) : undefined;
}

/**
 * The attestation ZTS checks: a signed token when the platform offers one
 * (the pod's projected service-account token; GetWebIdentityToken when
 * aws_web_identity is on), else the service role's STS credentials, which
 * ZTS checks with a call to STS. Says which it used.
 */
async function attestation(a: Agent, svc: ServiceConfig, signal?: AbortSignal): Promise<string> {
  const role = AwsIdentity.serviceRoleArn(a.config, svc.name).name;
  const doc = a.workload.platform === 'ec2' ? await a.aws.ec2Attestation() : {};
  const used = (method: AttestationMethod, why = '') => a.log(`${nameOf(a, svc)}: attestation by ${method}${why}`);
  const projected = projectedToken(a, svc);
  if (projected?.token) {
    used('eks-token', ` (${projected.file})`);
    return JSON.stringify({ role, commonName: nameOf(a, svc), identityToken: projected.token, ...doc });
  }
  const creds = await a.aws.assumeServiceRole(a.config, svc.name, a.workload.platform, signal);
  let fallback = projected?.error ? ` (projected token: ${projected.error})` : '';
  if (a.config.awsWebIdentity) {
    try {
      const audience = a.config.awsWebIdentityAudience ?? a.zts.baseUrl;
      const token = await a.aws.webIdentityToken(creds, { audience, algorithm: a.config.awsWebIdentitySigningAlgorithm }, signal);
      used('aws-token', ` (GetWebIdentityToken, audience ${audience})`);
      return JSON.stringify({ role: creds.role, commonName: nameOf(a, svc), identityToken: token, ...doc });
    } catch (e) {
      fallback = ` (${(e as Error).message})`;
    }
  }
  used('sts', fallback ? `: the token path failed${fallback}` : '');
  return JSON.stringify({ role: creds.role, commonName: nameOf(a, svc), access: creds.access, secret: creds.secret, token: creds.token, ...doc });
}

async function serviceCsr(a: Agent, svc: ServiceConfig, keyPem: string): Promise<string> {
  const c = a.config;
  return buildCsr(keyPem, serviceCsrNames({
    domain: c.domain,
    service: svc.name,
    provider: a.provider,
    instanceId: a.workload.instanceId,
    dnsDomains: a.dnsDomains,
    wildcard: c.sanDnsWildcard,
    cnames: c.sanDnsCnames,
    k8sNames: a.workload.platform === 'eks' ? k8sDnsNames(a.env, a.workload.namespace) : [],
    ...(c.spiffeTrustDomain ? { spiffeTrustDomain: c.spiffeTrustDomain } : {}),
    ...(a.workload.namespace ? { namespace: a.workload.namespace } : {}),
  }));
}

function optionalFields(a: Agent, svc: ServiceConfig): Record<string, unknown> {
  return {
    ...(a.workload.namespace ? { namespace: a.workload.namespace } : {}),
    ...(svc.expiryMins > 0 ? { expiryTime: svc.expiryMins } : {}),
  };
}

function saveIdentity(a: Agent, svc: ServiceConfig, keyPem: string | undefined, id: InstanceIdentity): CertState {
  if (!keyMatchesCertificate(keyPem ?? readIfExists(svc.keyFile) ?? '', id.x509Certificate)) {
    throw new Error(`ZTS returned a certificate for ${nameOf(a, svc)} that does not match the key: nothing was written`);
  }
  const files: FileWrite[] = [];
  // Key first: a reader that notices the new certificate finds its key already in place.
  if (keyPem) files.push({ path: svc.keyFile, content: keyPem, mode: KEY_MODE });
  files.push({ path: svc.certFile, content: id.x509Certificate, mode: CERT_MODE });
  const primary = svc.name === a.config.service;
  if (primary && id.x509CertificateSigner) files.push({ path: `${a.config.certDir}/ca.cert.pem`, content: id.x509CertificateSigner, mode: CERT_MODE });
  commit(a, files, svc);
  a.log(`${nameOf(a, svc)}: wrote ${files.map((f) => f.path).join(', ')}`);
  return { name: nameOf(a, svc), notAfter: parseCertificate(id.x509Certificate).notAfter, files: files.map((f) => f.path) };
}

/** The body of a register (`POST /instance`) with a new key: also what `-cmd diagnose` has ZTS check. */
export async function registerRequest(a: Agent, svc: ServiceConfig, signal?: AbortSignal): Promise<{ keyPem: string; body: Record<string, unknown> }> {
  // The key is generated on the thread pool while the attestation is fetched (the AWS SDK loads, STS answers).
  const [keyPem, attestationData] = await Promise.all([newKey(a), attestation(a, svc, signal)]);
  const body = {
    provider: a.provider,
    domain: a.config.domain,
    service: svc.name,
    attestationData,
    csr: await serviceCsr(a, svc, keyPem),
    // The host's name, shown with the instance (not put in the certificate); sent only when it is a name ZTS accepts.
    ...(isDomainName(hostname()) ? { hostname: hostname() } : {}),
    ...optionalFields(a, svc),
  };
  return { keyPem, body };
}

export async function registerService(a: Agent, svc: ServiceConfig, signal?: AbortSignal): Promise<CertState> {
  const { keyPem, body } = await registerRequest(a, svc, signal);
  const id = await a.zts.register(body, signal).catch((e) => refusal(`to register ${nameOf(a, svc)}`, e));
  a.log(`${nameOf(a, svc)}: registered instance ${a.workload.instanceId} with provider ${a.provider}`);
  return saveIdentity(a, svc, keyPem, id);
}

export async function refreshService(a: Agent, svc: ServiceConfig, signal?: AbortSignal): Promise<CertState> {
  const current = inspectService(a, svc);
  if (!current.usable) throw new CommandError(`cannot refresh ${nameOf(a, svc)}: ${current.reason}; register first (-cmd post)`);
  // Athenz keeps the key unless rotate_key is set (role certificates were issued for it).
  const [keyPem, attestationData] = await Promise.all([a.config.rotateKey ? newKey(a) : current.keyPem, attestation(a, svc, signal)]);
  const body = { attestationData, csr: await serviceCsr(a, svc, keyPem), ...optionalFields(a, svc) };
  const path = { provider: a.provider, domain: a.config.domain, service: svc.name, instanceId: a.workload.instanceId };
  const id = await a.zts.refresh(path, body, { cert: current.certPem, key: current.keyPem }, signal)
    .catch((e) => refusal(`to refresh ${nameOf(a, svc)}`, e));
  a.log(`${nameOf(a, svc)}: refreshed the certificate of instance ${a.workload.instanceId}`);
  return saveIdentity(a, svc, a.config.rotateKey ? keyPem : undefined, id);
}

/**
 * The daemon's step for one service: refresh when the files can do it,
 * register when they cannot (missing, expired, another instance's) or when
 * ZTS refuses the refresh (e.g. the certificate was replaced and is revoked).
 */
export async function ensureService(a: Agent, svc: ServiceConfig, signal?: AbortSignal): Promise<CertState & { registered: boolean }> {
  const check = inspectService(a, svc);
  if (!check.usable) {
    a.log(`${nameOf(a, svc)}: ${check.reason}: registering`);
    return { ...(await registerService(a, svc, signal)), registered: true };
  }
  try {
    return { ...(await refreshService(a, svc, signal)), registered: false };
  } catch (e) {
    if (!(e instanceof CommandError && e.cause instanceof ZtsRefusal)) throw e;
    a.log(`${e.message}: registering afresh`);
    return { ...(await registerService(a, svc, signal)), registered: true };
  }
}
