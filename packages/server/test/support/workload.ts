/**
 * What a workload does before it talks to ZTS, done the way siad does it:
 * AWS credentials through the real AWS SDK against aws-sim, an AssumeRole of
 * `<domain>.<service>`, a key and a CSR.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { createCsr } from '@tessera/core/x509/csr';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { httpsJson, type HttpsResponse } from '@tessera/core/https-client';

export interface AwsCreds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export async function assumeRole(stsUrl: string, region: string, creds: AwsCreds, roleArn: string, session: string): Promise<AwsCreds> {
  const sts = new STSClient({ region, endpoint: stsUrl, credentials: creds });
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: session }));
  sts.destroy();
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

export function attestation(role: string, creds: AwsCreds, extra: Record<string, string> = {}): string {
  return JSON.stringify({ role, commonName: role, access: creds.accessKeyId, secret: creds.secretAccessKey, token: creds.sessionToken ?? '', ...extra });
}

export interface Identity {
  keyPem: string;
  certPem?: string;
}

export async function serviceCsr(a: {
  domain: string;
  service: string;
  provider: string;
  instanceId: string;
  keyPem?: string;
  commonName?: string;
  dnsNames?: string[];
  dnsSuffix?: string;
  /** Instead of the basic SPIFFE ID (the instance id URI is always added). */
  spiffeUri?: string;
}): Promise<{ keyPem: string; csr: string }> {
  const keyPem = a.keyPem ?? generateKeyPair('rsa').privateKeyPem;
  const suffix = a.dnsSuffix ?? 'aws.athenz.cloud';
  const csr = await createCsr({
    keyPem,
    subject: { commonName: a.commonName ?? `${a.domain}.${a.service}`, organizationalUnit: a.provider },
    dnsNames: a.dnsNames ?? [`${a.service}.${a.domain.replace(/\./g, '-')}.${suffix}`],
    uris: [a.spiffeUri ?? `spiffe://${a.domain}/sa/${a.service}`, `athenz://instanceid/${a.provider}/${a.instanceId}`],
  });
  return { keyPem, csr };
}

export function ztsCall<T = Record<string, string>>(
  ztsUrl: string,
  ca: string,
  method: string,
  path: string,
  body: unknown,
  mtls?: { cert: string; key: string },
): Promise<HttpsResponse<T>> {
  return httpsJson<T>({ method, url: `${ztsUrl}${path}`, body, ca, ...(mtls ?? {}), headers: { 'user-agent': 'SIA-AWS test' } });
}

/** Runs `fn` with `env` added to process.env (the AWS SDK reads its endpoints from there), then restores it. */
export async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}
