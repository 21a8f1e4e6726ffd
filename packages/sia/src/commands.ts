/**
 * What siad does with ZTS, one step at a time: register a service, refresh it
 * over mTLS with the files on disk, fetch role certificates; and the one-shot
 * `-cmd` commands built from them, with Athenz's `.done` files.
 */
import { execFile } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { parseCertificate } from '@tessera/core/x509/certificate';
import { generateKeyPair, keyMatchesCertificate, toTraditionalPrivateKeyPem } from '@tessera/core/x509/keys';
import type { AccessTokenConfig, RoleConfig, ServiceConfig, SiaConfig } from './config/types.ts';
import type { AwsIdentity, Workload } from './aws-identity.ts';
import { buildCsr, k8sDnsNames, roleCsrNames, serviceCsrNames } from './csr.ts';
import { CERT_MODE, KEY_MODE, commitFiles, readIfExists, resolveOwner, touchDone, type FileWrite, type Owner } from './files.ts';
import { ZtsRefusal, type InstanceIdentity, type ZtsClient } from './zts-client.ts';
import { tokenFileContent, tokenRefreshDue, tokenRequestBody, type TokenResponse } from './access-tokens.ts';

export interface Agent {
  config: SiaConfig;
  workload: Workload;
  aws: AwsIdentity;
  zts: ZtsClient;
  provider: string;
  dnsDomains: string[];
  siaDir: string;
  env: Record<string, string | undefined>;
  /** Where passwd and group are read (tests point it elsewhere). */
  etcDir: string;
  log: (line: string) => void;
  now: () => Date;
  /** Set once siad has said it cannot hand files to group athenz. */
  ownerWarned?: boolean;
}

/** A certificate on disk and when it expires. */
export interface CertState {
  name: string;
  notAfter: Date;
}

/** A ZTS refusal, with what was asked. */
export class CommandError extends Error {}

const nameOf = (a: Agent, svc: ServiceConfig) => `${a.config.domain}.${svc.name}`;

function newKey(a: Agent): string {
  // PKCS#1 / SEC1, the PEM forms Athenz SIA writes and its consumers expect.
  return toTraditionalPrivateKeyPem(generateKeyPair(a.config.keyType).privateKeyPem);
}

/** Commits files with the configured owner; a default group siad may not give away is skipped with a warning. */
function commit(a: Agent, files: FileWrite[], who: { user?: string; group?: string }): void {
  const owner = resolveOwner({ ...who, etcDir: a.etcDir });
  const opts = { backupDir: a.config.backupDir, directUpdate: a.config.fileDirectUpdate };
  const withOwner = (o: Owner | undefined) => files.map((f) => ({ ...f, ...(o ? { owner: o } : {}) }));
  try {
    commitFiles(withOwner(owner), opts);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM' || !owner.defaultGroup || who.user) {
      if ((e as NodeJS.ErrnoException).code === 'EPERM') {
        throw new Error(`cannot give ${files.map((f) => f.path).join(', ')} to uid ${owner.uid} gid ${owner.gid}: run siad as root, or configure user/group as the account siad runs as`);
      }
      throw e;
    }
    if (!a.ownerWarned) a.log(`cannot give the files to group athenz (gid ${owner.gid}) as this user; they keep siad's own group`);
    a.ownerWarned = true;
    commitFiles(withOwner(undefined), opts);
  }
}

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

async function attestation(a: Agent, svc: ServiceConfig, signal?: AbortSignal): Promise<string> {
  const creds = await a.aws.assumeServiceRole(a.config, svc.name, a.workload.platform, signal);
  const doc = a.workload.platform === 'ec2' ? await a.aws.ec2Attestation() : {};
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
  return { name: nameOf(a, svc), notAfter: parseCertificate(id.x509Certificate).notAfter };
}

function refusal(what: string, e: unknown): never {
  if (e instanceof ZtsRefusal) throw new CommandError(`ZTS refused ${what} (${e.status}): ${e.message}`, { cause: e });
  throw e;
}

/** The body of a register (`POST /instance`) with a new key: also what `-cmd diagnose` has ZTS check. */
export async function registerRequest(a: Agent, svc: ServiceConfig, signal?: AbortSignal): Promise<{ keyPem: string; body: Record<string, unknown> }> {
  const keyPem = newKey(a);
  const body = {
    provider: a.provider,
    domain: a.config.domain,
    service: svc.name,
    attestationData: await attestation(a, svc, signal),
    csr: await serviceCsr(a, svc, keyPem),
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
  const keyPem = a.config.rotateKey ? newKey(a) : current.keyPem;
  const body = { attestationData: await attestation(a, svc, signal), csr: await serviceCsr(a, svc, keyPem), ...optionalFields(a, svc) };
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
    roleKey = existing ?? newKey(a);
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
  return { name: role.name, notAfter: parseCertificate(res.x509Certificate).notAfter };
}

/** Athenz's token file mode: owner and group read. */
export const TOKEN_MODE = 0o440;

/** Fetches one access token with the service certificate and writes its file; returns when it is due again (ms). */
export async function fetchAccessToken(a: Agent, t: AccessTokenConfig, signal?: AbortSignal): Promise<number> {
  const svc = a.config.services.find((s) => s.name === t.service) ?? a.config.services[0];
  const current = inspectService(a, svc);
  if (!current.usable) throw new CommandError(`cannot fetch the access token ${t.name}: the service certificate of ${nameOf(a, svc)} is not usable (${current.reason}); register first (-cmd post)`);
  const res = await a.zts.accessToken<TokenResponse>(tokenRequestBody(t), { cert: current.certPem, key: current.keyPem }, signal)
    .catch((e) => refusal(`the access token ${t.name}`, e));
  if (typeof res.access_token !== 'string') throw new Error(`ZTS answered the token request for ${t.name} without an access_token: nothing was written`);
  const content = tokenFileContent(res, a.config.storeTokenOption);
  commit(a, [{ path: t.file, content, mode: TOKEN_MODE }], t);
  a.log(`${t.name}: wrote ${t.file}${res.expires_in ? `, valid for ${res.expires_in}s` : ''}`);
  return tokenRefreshDue(content);
}

/** Every configured access token; failed names are returned, not thrown. */
export async function fetchAccessTokens(a: Agent, signal?: AbortSignal): Promise<{ due: number; failed: { name: string; error: Error }[] }> {
  let due = Number.POSITIVE_INFINITY;
  const failed: { name: string; error: Error }[] = [];
  for (const t of a.config.accessTokens) {
    try {
      due = Math.min(due, await fetchAccessToken(a, t, signal));
    } catch (e) {
      if (signal?.aborted) break;
      a.log(`${t.name}: ${(e as Error).message}`);
      failed.push({ name: t.name, error: e as Error });
    }
  }
  return { due, failed };
}

/** Runs a configured hook (`run_after`...): the first word must be an absolute path; no shell. */
export function runHook(a: Agent, command: string | undefined, extra?: string): Promise<void> {
  if (!command) return Promise.resolve();
  const words = command.match(/"[^"]*"|'[^']*'|\S+/g)?.map((w) => w.replace(/^(["'])(.*)\1$/, '$2')) ?? [];
  if (words.length === 0 || !isAbsolute(words[0])) {
    a.log(`hook "${command}" skipped: its first word must be an absolute path`);
    return Promise.resolve();
  }
  if (extra) words.push(extra);
  return new Promise((resolve) => {
    execFile(words[0], words.slice(1), { timeout: 60_000 }, (err, _stdout, stderr) => {
      if (err) a.log(`hook ${words[0]} failed: ${err.message}${stderr ? `: ${stderr.trim()}` : ''}`);
      resolve();
    });
  });
}

export const ONE_SHOT = ['post', 'register', 'rotate', 'refresh', 'rolecert', 'init', 'token'] as const;

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

async function roleCertsCommand(a: Agent, skipErrors: boolean): Promise<void> {
  if (a.config.roles.length === 0) {
    a.log('no role certificates configured (sia_config accounts[].roles, or ATHENZ_SIA_ACCOUNT_ROLES)');
    return;
  }
  const { failed } = await fetchRoleCerts(a);
  if (failed.length > 0) {
    await runHook(a, a.config.runAfterCertsErr, failed.map((f) => f.role).join(','));
    if (!skipErrors) throw new CommandError(failed.length === 1 ? failed[0].error.message : `${failed.length} role certificates failed: ${failed.map((f) => f.role).join(', ')}`);
  }
  await runHook(a, a.config.runAfter);
}

/** One `-cmd` part, e.g. `rolecert:skip-errors`. */
export async function runCommand(a: Agent, part: string): Promise<void> {
  const [cmd, option] = part.split(':');
  const skipErrors = option === 'skip-errors';
  switch (cmd) {
    case 'post':
    case 'register':
      for (const svc of a.config.services) await registerService(a, svc);
      await runHook(a, a.config.runAfter);
      touchDone(a.siaDir, 'register', a.now());
      return;
    case 'rotate':
    case 'refresh':
      for (const svc of a.config.services) await refreshService(a, svc);
      await runHook(a, a.config.runAfter);
      touchDone(a.siaDir, 'refresh', a.now());
      return;
    case 'rolecert':
      await roleCertsCommand(a, skipErrors);
      touchDone(a.siaDir, 'rolecert', a.now());
      return;
    case 'init':
      for (const svc of a.config.services) await registerService(a, svc);
      await roleCertsCommand(a, skipErrors);
      touchDone(a.siaDir, 'init', a.now());
      return;
    case 'token': {
      if (a.config.accessTokens.length === 0) {
        a.log('no access tokens configured (sia_config access_tokens, or ATHENZ_SIA_ACCESS_TOKENS)');
        return;
      }
      const { failed } = await fetchAccessTokens(a);
      if (failed.length > 0 && !skipErrors) {
        throw new CommandError(failed.length === 1 ? failed[0].error.message : `${failed.length} access tokens failed: ${failed.map((f) => f.name).join(', ')}`);
      }
      touchDone(a.siaDir, 'token', a.now());
      return;
    }
    default:
      throw new CommandError(`unknown -cmd ${cmd} (post, register, rotate, refresh, rolecert, token, init; none for the daemon)`);
  }
}
