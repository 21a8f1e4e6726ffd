/** Role certificates (`POST /rolecert`), authenticated with the service certificate. */
import { parseCertificate } from '@tessera/core/x509/certificate';
import { keyMatchesCertificate } from '@tessera/core/x509/keys';
import type { RoleConfig } from './config/types.ts';
import { CommandError, commit, nameOf, newKey, refusal, type Agent, type CertState } from './agent.ts';
import { buildCsr, roleCsrNames } from './csr.ts';
import { CERT_MODE, KEY_MODE, readIfExists, type FileWrite } from './files.ts';
import { inspectService } from './service-cert.ts';

/** RDL timestamps: UTC with milliseconds. */
const rdlTime = (d: Date) => d.toISOString();

export async function fetchRoleCert(a: Agent, role: RoleConfig, signal?: AbortSignal): Promise<CertState> {
  const svc = a.config.services.find((s) => s.name === role.service) ?? a.config.services[0];
  const current = inspectService(a, svc);
  if (!current.usable) throw new CommandError(`cannot fetch ${role.name}: the service certificate of ${nameOf(a, svc)} is not usable (${current.reason}); register first (-cmd post)`);
  let roleKey = current.keyPem;
  let newRoleKey = false;
  if (a.config.generateRoleKey) {
    const existing = a.config.rotateKey ? undefined : readIfExists(role.keyFile);
    roleKey = existing ?? (await newKey(a));
    newRoleKey = !existing;
  }
  const names = roleCsrNames({
    role: role.name,
    principal: nameOf(a, svc),
    provider: a.provider,
    instanceId: a.workload.instanceId,
    ...(a.config.spiffeTrustDomain ? { spiffeTrustDomain: a.config.spiffeTrustDomain } : {}),
  });
  const previous = readIfExists(role.certFile);
  let prev: Record<string, string> = {};
  try {
    if (previous) {
      const p = parseCertificate(previous);
      prev = { prevCertNotBefore: rdlTime(p.notBefore), prevCertNotAfter: rdlTime(p.notAfter) };
    }
  } catch {
    // An unreadable previous certificate is simply replaced.
  }
  const body = { csr: await buildCsr(roleKey, names), expiryTime: role.expiryMins, ...prev };
  const res = await a.zts.roleCertificate(body, { cert: current.certPem, key: current.keyPem }, signal)
    .catch((e) => refusal(`the role certificate ${role.name}`, e));
  if (!keyMatchesCertificate(roleKey, res.x509Certificate)) throw new Error(`ZTS returned a role certificate for ${role.name} that does not match its key: nothing was written`);
  const files: FileWrite[] = [];
  if (newRoleKey) files.push({ path: role.keyFile, content: roleKey, mode: KEY_MODE });
  files.push({ path: role.certFile, content: res.x509Certificate, mode: CERT_MODE });
  commit(a, files, role);
  a.log(`${role.name}: wrote ${files.map((f) => f.path).join(', ')}`);
  return { name: role.name, notAfter: parseCertificate(res.x509Certificate).notAfter, files: files.map((f) => f.path) };
}

/** Every configured role certificate; failed role names are returned, not thrown. */
export async function fetchRoleCerts(a: Agent, signal?: AbortSignal): Promise<{ certs: CertState[]; failed: { role: string; error: Error }[] }> {
  const certs: CertState[] = [];
  const failed: { role: string; error: Error }[] = [];
  for (const role of a.config.roles) {
    try {
      certs.push(await fetchRoleCert(a, role, signal));
    } catch (e) {
      if (signal?.aborted) break;
      a.log(`${role.name}: ${(e as Error).message}`);
      failed.push({ role: role.name, error: e as Error });
    }
  }
  return { certs, failed };
}
