/** Builds ZTS's dependencies: the signer on the CA, and the built-in providers under Athenz's class names. */
import type { Kysely } from 'kysely';
import type { Database } from '@tessera/store/schema';
import type { DomainSnapshots } from '@tessera/store/domain-snapshots';
import type { CertificateAuthority } from '@tessera/core/x509/ca';
import type { ZtsConfig } from '@tessera/zts/config';
import type { ZtsContext } from '@tessera/zts/context';
import { pemFileSigner } from '@tessera/zts/signer';
import { ProviderRegistry } from '@tessera/zts/providers/registry';
import { awsProvider } from '@tessera/zts/providers/aws/aws-provider';
import { stsCallerIdentity, type CallerIdentityCheck } from '@tessera/zts/providers/aws/sts-identity';
import { AWS_ECS_PROVIDER_ENDPOINT, AWS_PROVIDER_ENDPOINT } from '@tessera/zms/bootstrap';
import { RevocationList } from '@tessera/zts/crl/revocation-list';
import type { TokenKeys } from '@tessera/zts/tokens/token-keys';

export function ztsContext(a: {
  db: Kysely<Database>;
  snapshots: DomainSnapshots;
  ca: CertificateAuthority;
  config: ZtsConfig;
  tokenKeys: TokenKeys;
  now: () => Date;
  /** Wraps the STS check (metrics time it). */
  wrapSts?: (check: CallerIdentityCheck) => CallerIdentityCheck;
}): ZtsContext {
  const sts = stsCallerIdentity({ region: a.config.awsRegion, endpoint: a.config.stsEndpoint, timeoutMs: a.config.stsTimeoutMs });
  const callerIdentity = a.wrapSts ? a.wrapSts(sts) : sts;
  const aws = (flavor: 'ec2' | 'ecs') => (name: string) =>
    awsProvider(name, {
      flavor,
      dnsSuffixes: a.config.awsDnsSuffixes,
      documentCertsPem: a.config.awsDocumentCertsPem,
      bootWindowSeconds: a.config.ec2BootWindowSeconds,
      stsOnlyCertMins: a.config.stsOnlyCertMins,
      callerIdentity,
      now: a.now,
    });
  const signer = pemFileSigner(a.ca, { crlUrl: a.config.crlUrl });
  return {
    db: a.db,
    snapshots: a.snapshots,
    signer,
    providers: new ProviderRegistry(a.snapshots, { [AWS_PROVIDER_ENDPOINT]: aws('ec2'), [AWS_ECS_PROVIDER_ENDPOINT]: aws('ecs') }),
    config: a.config,
    tokenKeys: a.tokenKeys,
    revocations: new RevocationList({ db: a.db, signer, now: a.now }),
    now: a.now,
  };
}
