/** `-cmd post` (register), `-cmd rotate` (refresh over mTLS), `-cmd rolecert` — as Athenz SIA does them. */
import { readFileSync } from 'node:fs';
import { httpsJson } from '@tessera/core/https-client';
import { createCsr } from '@tessera/core/x509/csr';
import { generateKeyPair } from '@tessera/core/x509/keys';
import type { SiaFlags } from './flags.ts';
import type { IdentityConfig } from './identity-config.ts';
import { assumeServiceRole, type Workload } from './aws-identity.ts';
import { CERT_MODE, KEY_MODE, siaPaths, writeAll } from './files.ts';

export interface RunContext {
  flags: SiaFlags;
  identity: IdentityConfig;
  workload: Workload;
  log: (line: string) => void;
}

const dashed = (domain: string) => domain.replace(/\./g, '-');

function provider(c: RunContext): string {
  return `${c.flags.providerprefix}.${c.workload.region}`;
}

function ztsUrl(c: RunContext): string {
  return `https://${c.flags.zts}:${c.flags.ztsport}/zts/v1`;
}

function ca(c: RunContext): string | undefined {
  return c.flags.ztscacert ? readFileSync(c.flags.ztscacert, 'utf8') : undefined;
}

async function serviceCsr(c: RunContext, keyPem: string): Promise<string> {
  const { domain, service } = c.identity;
  return createCsr({
    keyPem,
    subject: { commonName: `${domain}.${service}`, organizationalUnit: provider(c) },
    dnsNames: c.flags.dnsdomains.split(',').filter(Boolean).map((d) => `${service}.${dashed(domain)}.${d}`),
    uris: [`spiffe://${domain}/sa/${service}`, `athenz://instanceid/${provider(c)}/${c.workload.instanceId}`],
  });
}

async function attestation(c: RunContext): Promise<string> {
  const { domain, service } = c.identity;
  const creds = await assumeServiceRole(c.workload, domain, service, c.identity.account ?? c.workload.account, c.identity.rolePath);
  return JSON.stringify({ role: `${domain}.${service}`, commonName: `${domain}.${service}`, ...creds });
}

function ztsFailure(what: string, res: { status: number; body: unknown; text: string }): Error {
  const message = (res.body as { message?: string } | undefined)?.message ?? res.text;
  return new Error(`ZTS refused ${what} (${res.status}): ${message}`);
}

function saveIdentity(c: RunContext, keyPem: string, body: { x509Certificate: string; x509CertificateSigner?: string }): void {
  const p = siaPaths(c.flags.siadir, c.identity.domain, c.identity.service);
  writeAll([
    { path: p.key, content: keyPem, mode: KEY_MODE },
    { path: p.cert, content: body.x509Certificate, mode: CERT_MODE },
    ...(body.x509CertificateSigner ? [{ path: p.ca, content: body.x509CertificateSigner, mode: CERT_MODE }] : []),
  ]);
  c.log(`wrote ${p.key}, ${p.cert}${body.x509CertificateSigner ? ` and ${p.ca}` : ''}`);
}

export async function register(c: RunContext): Promise<void> {
  const { privateKeyPem } = generateKeyPair('rsa');
  const res = await httpsJson<{ x509Certificate: string; x509CertificateSigner: string }>({
    method: 'POST',
    url: `${ztsUrl(c)}/instance`,
    ca: ca(c),
    headers: { 'user-agent': 'SIA-AWS tessera' },
    body: {
      provider: provider(c),
      domain: c.identity.domain,
      service: c.identity.service,
      csr: await serviceCsr(c, privateKeyPem),
      attestationData: await attestation(c),
    },
  });
  if (res.status !== 201) throw ztsFailure('to register the instance', res);
  saveIdentity(c, privateKeyPem, res.body);
}

export async function refresh(c: RunContext): Promise<void> {
  const p = siaPaths(c.flags.siadir, c.identity.domain, c.identity.service);
  const current = { key: readFileSync(p.key, 'utf8'), cert: readFileSync(p.cert, 'utf8') };
  // A new key with every certificate (Athenz's rotate_key): a leaked old key is worth nothing.
  const { privateKeyPem } = generateKeyPair('rsa');
  const { domain, service } = c.identity;
  const res = await httpsJson<{ x509Certificate: string; x509CertificateSigner: string }>({
    method: 'POST',
    url: `${ztsUrl(c)}/instance/${provider(c)}/${domain}/${service}/${encodeURIComponent(c.workload.instanceId)}`,
    ca: ca(c),
    ...current,
    headers: { 'user-agent': 'SIA-AWS tessera' },
    body: { csr: await serviceCsr(c, privateKeyPem), attestationData: await attestation(c) },
  });
  if (res.status !== 200) throw ztsFailure('to refresh the certificate', res);
  saveIdentity(c, privateKeyPem, res.body);
}

export async function roleCerts(c: RunContext): Promise<void> {
  if (c.identity.roles.length === 0) throw new Error(`no roles configured for role certificates (sia_config accounts[].roles, or ATHENZ_SIA_ROLES)`);
  const { domain, service } = c.identity;
  const p = siaPaths(c.flags.siadir, domain, service);
  const key = readFileSync(p.key, 'utf8');
  const cert = readFileSync(p.cert, 'utf8');
  for (const role of c.identity.roles) {
    const m = /^([^:]+):role\.(.+)$/.exec(role);
    if (!m) throw new Error(`role ${role} must look like <domain>:role.<role>`);
    const csr = await createCsr({
      keyPem: key,
      subject: { commonName: role, organizationalUnit: provider(c) },
      uris: [`spiffe://${m[1]}/ra/${m[2]}`, `athenz://instanceid/${provider(c)}/${c.workload.instanceId}`, `athenz://principal/${domain}.${service}`],
    });
    const res = await httpsJson<{ x509Certificate: string }>({
      method: 'POST', url: `${ztsUrl(c)}/rolecert`, ca: ca(c), key, cert, body: { csr, expiryTime: 0 },
    });
    if (res.status !== 200) throw ztsFailure(`the role certificate for ${role}`, res);
    writeAll([{ path: p.roleCert(role), content: res.body.x509Certificate, mode: CERT_MODE }]);
    c.log(`wrote ${p.roleCert(role)}`);
  }
}
