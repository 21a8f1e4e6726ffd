/**
 * Proves AWS identity with the credentials the workload presents: STS
 * GetCallerIdentity, through the AWS SDK, signed with those credentials.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ProviderError } from '../instance-provider.ts';

export interface StsSettings {
  region: string;
  endpoint?: string;
  timeoutMs: number;
}

export type CallerIdentityCheck = (creds: { access: string; secret: string; token: string }) => Promise<string>;

/** Returns the caller ARN STS reports; ProviderError 403 when STS refuses, 504 when it is slow or down. */
export function stsCallerIdentity(s: StsSettings): CallerIdentityCheck {
  return async (creds) => {
    const client = new STSClient({
      region: s.region,
      ...(s.endpoint ? { endpoint: s.endpoint } : {}),
      credentials: { accessKeyId: creds.access, secretAccessKey: creds.secret, sessionToken: creds.token || undefined },
      maxAttempts: 2,
    });
    try {
      const out = await client.send(new GetCallerIdentityCommand({}), { abortSignal: AbortSignal.timeout(s.timeoutMs) });
      if (!out.Arn) throw new ProviderError('STS GetCallerIdentity returned no ARN');
      return out.Arn;
    } catch (e) {
      if (e instanceof ProviderError) throw e;
      const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const status = err.$metadata?.httpStatusCode;
      if (status && status >= 400 && status < 500) {
        throw new ProviderError(`AWS STS rejected the presented credentials (${err.name}: ${err.message}); send fresh credentials of the assumed role`);
      }
      throw new ProviderError(`AWS STS did not answer in time or failed (${err.name ?? 'error'}: ${err.message ?? ''}); try again later`, 504);
    } finally {
      client.destroy();
    }
  };
}
