/**
 * Which OIDC issuers (EKS clusters) a domain's AWS account trusts: the IAM
 * OIDC providers registered in it, read through a reader role in that account
 * (Athenz: `oidc-issuers-reader`, assumed with ZTS's own credentials) and
 * cached per account, so that a register costs no AWS call. A miss re-reads
 * the list at most once per `minRefetchMs` (a cluster created a minute ago);
 * while IAM is unreachable the cached list stays in use.
 */
import { AssumeRoleCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import { IAMClient, ListOpenIDConnectProvidersCommand } from '@aws-sdk/client-iam';
import { ProviderError } from '../instance-provider.ts';
import type { AwsCallCounter } from './aws-calls.ts';

export interface AccountIssuersSettings {
  region: string;
  stsEndpoint?: string;
  iamEndpoint?: string;
  /** ZTS's own AWS credentials (the SDK's default chain in production). */
  credentials: NonNullable<STSClientConfig['credentials']>;
  /** Role name in each domain account that ZTS assumes to list its OIDC providers. */
  readerRole: string;
  /** A cached list is re-read after this long. */
  maxAgeMs: number;
  minRefetchMs: number;
  timeoutMs: number;
  now: () => Date;
  count: AwsCallCounter;
}

export type IssuerRegistry = (account: string, issuer: string) => Promise<boolean>;

interface Entry {
  /** Issuers without https://, as IAM lists them in provider ARNs. */
  issuers?: Set<string>;
  fetchedAt: number;
  lastAttempt: number;
  lastError?: string;
  inflight?: Promise<void>;
}

export function accountIssuers(s: AccountIssuersSettings): IssuerRegistry {
  const entries = new Map<string, Entry>();
  const sts = new STSClient({ region: s.region, endpoint: s.stsEndpoint, credentials: s.credentials, maxAttempts: 2 });

  async function load(account: string, entry: Entry): Promise<void> {
    entry.lastAttempt = s.now().getTime();
    const signal = AbortSignal.timeout(s.timeoutMs);
    try {
      s.count('sts:AssumeRole', 'oidc-provider-lookup');
      const out = await sts.send(
        new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/${s.readerRole}`, RoleSessionName: 'tessera-zts-oidc-lookup', DurationSeconds: 900 }),
        { abortSignal: signal },
      );
      const c = out.Credentials!;
      const iam = new IAMClient({
        region: 'us-east-1',
        endpoint: s.iamEndpoint,
        credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken },
        maxAttempts: 2,
      });
      try {
        s.count('iam:ListOpenIDConnectProviders', 'oidc-provider-lookup');
        const list = await iam.send(new ListOpenIDConnectProvidersCommand({}), { abortSignal: signal });
        const prefix = `arn:aws:iam::${account}:oidc-provider/`;
        entry.issuers = new Set((list.OpenIDConnectProviderList ?? []).map((p) => p.Arn ?? '').filter((a) => a.startsWith(prefix)).map((a) => a.slice(prefix.length)));
        entry.fetchedAt = entry.lastAttempt;
        entry.lastError = undefined;
      } finally {
        iam.destroy();
      }
    } catch (e) {
      const err = e as Error;
      entry.lastError = `${err.name}: ${err.message}`;
    }
  }

  async function refresh(account: string, entry: Entry): Promise<void> {
    if (!entry.inflight) {
      if (entry.lastAttempt > 0 && s.now().getTime() - entry.lastAttempt < s.minRefetchMs) return;
      entry.inflight = load(account, entry).finally(() => (entry.inflight = undefined));
    }
    await entry.inflight;
  }

  return async (account, issuer) => {
    const hostPath = issuer.replace(/^https:\/\//, '');
    let entry = entries.get(account);
    if (!entry) {
      entry = { fetchedAt: 0, lastAttempt: 0 };
      entries.set(account, entry);
    }
    const stale = s.now().getTime() - entry.fetchedAt > s.maxAgeMs;
    if (!entry.issuers || stale || !entry.issuers.has(hostPath)) await refresh(account, entry);
    if (!entry.issuers) {
      throw new ProviderError(
        `unable to read the IAM OIDC providers of account ${account} (${entry.lastError ?? 'not read yet'}); ` +
          `the account needs a role ${s.readerRole} that ZTS may assume, allowed iam:ListOpenIDConnectProviders`,
      );
    }
    return entry.issuers.has(hostPath);
  };
}
