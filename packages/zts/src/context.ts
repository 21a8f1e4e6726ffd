/** What every ZTS operation is given: dependencies passed in, never global. */
import type { Kysely } from 'kysely';
import { unauthorized, type ApiError } from '@tessera/core/errors';
import type { CertificateInfo } from '@tessera/core/x509/certificate';
import type { Database } from '@tessera/store/schema';
import type { DomainSnapshots } from '@tessera/store/domain-snapshots';
import type { ZtsConfig } from './config.ts';
import type { CertSigner } from './signer.ts';
import type { ProviderRegistry } from './providers/registry.ts';
import type { TokenKeys } from './tokens/token-keys.ts';
import type { RevocationList } from './crl/revocation-list.ts';

export interface ZtsContext {
  db: Kysely<Database>;
  snapshots: DomainSnapshots;
  signer: CertSigner;
  providers: ProviderRegistry;
  config: ZtsConfig;
  /** Signing keys of access, ID and role tokens. */
  tokenKeys: TokenKeys;
  /** The CRL and the revoked serials. */
  revocations: RevocationList;
  now: () => Date;
}

/** The caller as ZTS sees it. */
export interface Caller {
  /** CN of the client certificate, when one was presented and verified. */
  principal?: string;
  /** Why there is no principal, when there is none; asked only by a refusal, not on every register. */
  noPrincipal?: () => string;
  /** The client certificate, read once per TLS connection, for refresh and role checks. */
  cert?: CertificateInfo;
  ip: string;
  userAgent?: string;
}

/** The 401 for a caller that proved no principal: `message`, then why, when the connection can tell. */
export function noPrincipalRefusal(caller: Caller, message: string): ApiError {
  const why = caller.noPrincipal?.();
  return unauthorized(why ? `${message} (${why})` : message);
}
