/** What every ZTS operation is given: dependencies passed in, never global. */
import type { Kysely } from 'kysely';
import { forbidden, unauthorized, type ApiError } from '@tessera/core/errors';
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

/**
 * The caller as a service, for role certificates and SVIDs: a service
 * certificate as the TLS client certificate, neither a role certificate nor
 * a revoked one. `need` says what asked for it, for the 401.
 */
export function serviceCertCaller(ctx: ZtsContext, caller: Caller, need: string): { principal: string; cert: CertificateInfo } {
  const { principal, cert } = caller;
  if (!principal || !cert) throw noPrincipalRefusal(caller, `${need} as the TLS client certificate`);
  if (principal.includes(':role.')) throw forbidden('Role Identity not authorized for request: use the service certificate');
  if (ctx.revocations.isRevoked(cert.serialHex)) {
    throw unauthorized(`the client certificate (serial ${cert.serialHex}) is revoked: the instance must register again to get a new certificate`);
  }
  return { principal, cert };
}
