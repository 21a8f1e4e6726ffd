/** Builds ZTS's dependencies: the signer on the CA, and the built-in providers under Athenz's class names. */
import type { Kysely } from 'kysely';
import type { Database } from '@tessera/store/schema';
import type { DomainSnapshots } from '@tessera/store/domain-snapshots';
import type { CertificateAuthority } from '@tessera/core/x509/ca';
import type { ZtsConfig } from '@tessera/zts/config';
import type { ZtsContext } from '@tessera/zts/context';
import { pemFileSigner, type CertSigner } from '@tessera/zts/signer';
import { ProviderRegistry } from '@tessera/zts/providers/registry';
import { awsProvider } from '@tessera/zts/providers/aws/aws-provider';
import { stsCallerIdentity, type CallerIdentityCheck } from '@tessera/zts/providers/aws/sts-identity';
import { AWS_ECS_PROVIDER_ENDPOINT, AWS_PROVIDER_ENDPOINT } from '@tessera/zms/bootstrap';
import { RevocationList } from '@tessera/zts/crl/revocation-list';
import type { TokenKeys } from '@tessera/zts/tokens/token-keys';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { ignoreAwsCalls, type AwsCallCounter } from '@tessera/zts/providers/aws/aws-calls';
import { IssuerKeyCache } from '@tessera/zts/providers/aws/issuer-keys';
import { accountIssuers } from '@tessera/zts/providers/aws/account-issuers';
import type { TokenSettings } from '@tessera/zts/providers/aws/token-attestation';

/** Issuer keys and IAM OIDC provider lists are re-read hourly, and at most every 30 s when a token needs it. */
const CACHE_MAX_AGE_MS = 3_600_000;
const MIN_REFETCH_MS = 30_000;

export function ztsContext(a: {
  db: Kysely<Database>;
  snapshots: DomainSnapshots;
  ca: CertificateAuthority;
  config: ZtsConfig;
  tokenKeys: TokenKeys;
  now: () => Date;
  /** Wraps the STS check (metrics time it). */
  wrapSts?: (check: CallerIdentityCheck) => CallerIdentityCheck;
  /** Counts AWS calls by reason (metrics). */
  countAwsCall?: AwsCallCounter;
  /** Counts each use of the CA key (metrics): set against the certificates answered, a gap is signed but never delivered. */
  countSignature?: (what: 'certificate' | 'crl') => void;
}): ZtsContext {
  const c = a.config;
  const count = a.countAwsCall ?? ignoreAwsCalls;
  const sts = stsCallerIdentity({ region: c.awsRegion, endpoint: c.stsEndpoint, timeoutMs: c.stsTimeoutMs });
  const callerIdentity = a.wrapSts ? a.wrapSts(sts) : sts;
  const cache = { maxAgeMs: CACHE_MAX_AGE_MS, minRefetchMs: MIN_REFETCH_MS, timeoutMs: c.stsTimeoutMs, now: a.now, count };
  // One of each for every provider: keys and issuer lists are shared, whichever provider a workload uses.
  const tokens: TokenSettings = {
    keys: new IssuerKeyCache({ ...cache, discoveryEndpoint: c.oidcEndpoint }),
    issuers: accountIssuers({
      ...cache, region: c.awsRegion, stsEndpoint: c.stsEndpoint, iamEndpoint: c.iamEndpoint, credentials: fromNodeProviderChain(), readerRole: c.oidcReaderRole,
    }),
    audience: () => c.attestationAudience ?? c.tokenIssuer ?? '',
    clockToleranceSeconds: c.tokenClockSkewSeconds,
    orgAllowList: c.awsOrgAllowList,
  };
  const aws = (flavor: 'ec2' | 'ecs') => (name: string) =>
    awsProvider(name, {
      flavor,
      dnsSuffixes: a.config.awsDnsSuffixes,
      documentCertsPem: a.config.awsDocumentCertsPem,
      bootWindowSeconds: a.config.ec2BootWindowSeconds,
      stsOnlyCertMins: a.config.stsOnlyCertMins,
      callerIdentity,
      methods: c.attestationMethods[flavor === 'ec2' ? 'aws' : 'aws-ecs'],
      tokens,
      count,
      now: a.now,
    });
  const pem = pemFileSigner(a.ca, { crlUrl: a.config.crlUrl });
  const counted = a.countSignature ?? (() => {});
  const signer: CertSigner = {
    ...pem,
    sign: (req) => pem.sign(req).then((r) => (counted('certificate'), r)),
    signCrl: (req) => pem.signCrl(req).then((r) => (counted('crl'), r)),
  };
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
