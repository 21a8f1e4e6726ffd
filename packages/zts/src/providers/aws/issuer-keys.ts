/**
 * Signing keys of OIDC issuers (EKS clusters, AWS outbound web identity),
 * fetched by OIDC discovery and cached per issuer. Fetches are rate-limited
 * per issuer: a token with an unknown `kid` causes at most one refetch per
 * `minRefetchMs`; cached keys stay in use while the issuer is unreachable.
 * Only issuers already known to be trusted are ever fetched (the caller
 * checks that first), so a token cannot make ZTS fetch an arbitrary URL.
 */
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { ProviderError } from '../instance-provider.ts';
import type { AwsCallCounter, AwsCallReason } from './aws-calls.ts';

/** Asymmetric algorithms only: `none` and HMAC (a public key used as a shared secret) never verify. */
export const TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

export interface IssuerKeysSettings {
  /**
   * Development only (aws-sim): fetch `https://<host>/<path>/…` at
   * `<endpoint>/<host>/<path>/…` instead, as AWS_ENDPOINT_URL_* does for APIs.
   */
  discoveryEndpoint?: string;
  /** At most one fetch per issuer this often (unknown kid, outage retries). */
  minRefetchMs: number;
  /** Keys older than this are refetched (and kept if that fails). */
  maxAgeMs: number;
  timeoutMs: number;
  now: () => Date;
  count: AwsCallCounter;
  fetch?: typeof fetch;
}

interface Entry {
  keys?: ReturnType<typeof createLocalJWKSet>;
  fetchedAt: number;
  lastAttempt: number;
  /** When an unknown kid last caused a refetch. */
  lastUnknownKid: number;
  lastError?: string;
  inflight?: Promise<void>;
}

const MAX_DOCUMENT_BYTES = 256 * 1024;
/** Projected tokens live up to 2 days in practice; anything older is refused whatever its exp. */
const MAX_TOKEN_AGE_SECONDS = 2 * 86400;

export interface VerifyOptions {
  audience: string;
  clockToleranceSeconds: number;
}

export class IssuerKeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly http: typeof fetch;

  constructor(private readonly s: IssuerKeysSettings) {
    this.http = s.fetch ?? fetch;
  }

  private documentUrl(issuer: string, path: string): string {
    const base = this.s.discoveryEndpoint ? `${this.s.discoveryEndpoint.replace(/\/+$/, '')}/${issuer.replace(/^https:\/\//, '')}` : issuer;
    return `${base.replace(/\/+$/, '')}${path}`;
  }

  private async getJson(url: string): Promise<unknown> {
    const res = await this.http(url, { signal: AbortSignal.timeout(this.s.timeoutMs), redirect: 'error' });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${url} answered HTTP ${res.status}`);
    if (text.length > MAX_DOCUMENT_BYTES) throw new Error(`${url} answered more than ${MAX_DOCUMENT_BYTES} bytes`);
    return JSON.parse(text) as unknown;
  }

  private async load(issuer: string, entry: Entry, reason: AwsCallReason): Promise<void> {
    entry.lastAttempt = this.s.now().getTime();
    try {
      this.s.count('oidc:discovery', reason);
      const discovery = (await this.getJson(this.documentUrl(issuer, '/.well-known/openid-configuration'))) as { issuer?: unknown; jwks_uri?: unknown };
      if (discovery.issuer !== issuer) throw new Error(`its discovery document names issuer ${String(discovery.issuer)}`);
      if (typeof discovery.jwks_uri !== 'string') throw new Error('its discovery document has no jwks_uri');
      this.s.count('oidc:jwks', reason);
      const jwks = (await this.getJson(discovery.jwks_uri)) as JSONWebKeySet;
      if (!Array.isArray(jwks?.keys)) throw new Error('its JWKS has no keys');
      entry.keys = createLocalJWKSet(jwks);
      entry.fetchedAt = entry.lastAttempt;
      entry.lastError = undefined;
    } catch (e) {
      const err = e as Error;
      entry.lastError = err.name === 'TimeoutError' ? `no answer within ${this.s.timeoutMs} ms` : err.cause instanceof Error ? err.cause.message : err.message;
    }
  }

  /**
   * Fetches, unless rate-limited: an unknown kid refetches at most once per
   * minRefetchMs, and a failed fetch is not retried sooner either (an issuer
   * that is down is not hammered). Concurrent callers share one fetch.
   */
  private async refresh(issuer: string, entry: Entry, reason: AwsCallReason): Promise<boolean> {
    if (entry.inflight) {
      await entry.inflight;
      return true;
    }
    const now = this.s.now().getTime();
    if (reason === 'unknown-kid') {
      if (now - entry.lastUnknownKid < this.s.minRefetchMs) return false;
      entry.lastUnknownKid = now;
    } else if (entry.lastError && now - entry.lastAttempt < this.s.minRefetchMs) {
      return false;
    }
    entry.inflight = this.load(issuer, entry, reason).finally(() => (entry.inflight = undefined));
    await entry.inflight;
    return true;
  }

  /** The token's signature and standard claims (iss, aud, exp, nbf) checked against the issuer's cached keys. */
  async verify(token: string, issuer: string, o: VerifyOptions): Promise<JWTPayload> {
    let entry = this.entries.get(issuer);
    if (!entry) {
      entry = { fetchedAt: 0, lastAttempt: 0, lastUnknownKid: 0 };
      this.entries.set(issuer, entry);
    }
    if (!entry.keys) await this.refresh(issuer, entry, 'issuer-first-use');
    else if (this.s.now().getTime() - entry.fetchedAt > this.s.maxAgeMs) await this.refresh(issuer, entry, 'issuer-keys-stale');
    if (!entry.keys) {
      throw new ProviderError(`unable to get the signing keys of issuer ${issuer} (${entry.lastError ?? 'not fetched yet'}) and none are cached; try again later`);
    }
    try {
      return await this.check(token, issuer, entry, o);
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey)) throw mapJoseError(e, issuer);
    }
    // A kid we do not know: the issuer may have rotated its keys. One refetch, rate-limited.
    const kid = headerKey(token);
    if (!(await this.refresh(issuer, entry, 'unknown-kid'))) {
      throw new ProviderError(`token key id ${kid} is not among the keys of issuer ${issuer} (an unknown key id refetched them less than ${this.s.minRefetchMs / 1000} s ago)`);
    }
    try {
      return await this.check(token, issuer, entry, o);
    } catch (e) {
      if (e instanceof errors.JWKSNoMatchingKey) {
        throw new ProviderError(`token key id ${kid} is not among the keys of issuer ${issuer}${entry.lastError ? ` (refetch failed: ${entry.lastError})` : ''}`);
      }
      throw mapJoseError(e, issuer);
    }
  }

  private check(token: string, issuer: string, entry: Entry, o: VerifyOptions): Promise<JWTPayload> {
    return jwtVerify(token, entry.keys!, {
      algorithms: TOKEN_ALGORITHMS,
      issuer,
      audience: o.audience,
      clockTolerance: o.clockToleranceSeconds,
      currentDate: this.s.now(),
      requiredClaims: ['exp', 'iat'],
      // Also refuses an `iat` in the future (beyond the tolerance).
      maxTokenAge: MAX_TOKEN_AGE_SECONDS,
    }).then((r) => r.payload);
  }
}

/** `<kid> (<alg>)` of the token's header, for messages. */
function headerKey(token: string): string {
  try {
    const h = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as { kid?: unknown; alg?: unknown };
    return `${typeof h.kid === 'string' ? h.kid : '(none)'} (${String(h.alg)})`;
  } catch {
    return '(none)';
  }
}

function mapJoseError(e: unknown, issuer: string): Error {
  if (e instanceof errors.JWTExpired) return new ProviderError(`token expired (exp ${String(e.payload.exp)}): the workload must present a fresh token`);
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return new ProviderError(`token audience ${JSON.stringify(e.payload.aud ?? null)} is not ZTS's; request a token for ZTS's audience`);
    if (e.claim === 'nbf') return new ProviderError(`token is not yet valid (nbf ${String(e.payload.nbf)})`);
    return new ProviderError(`token claim ${e.claim} is not valid: ${e.message}`);
  }
  if (e instanceof errors.JOSEAlgNotAllowed) return new ProviderError(`token algorithm is not allowed (only ${TOKEN_ALGORITHMS.join(', ')})`);
  if (e instanceof errors.JWSSignatureVerificationFailed) return new ProviderError(`token signature does not verify with the keys of issuer ${issuer}`);
  if (e instanceof errors.JOSEError) return new ProviderError(`token refused: ${e.message}`);
  if (e instanceof ProviderError) return e;
  // Anything else came from importing the issuer's published key (WebCrypto's DataError): the
  // issuer's fault, never a 500.
  return new ProviderError(`token refused: issuer ${issuer} publishes a key that cannot be used (${(e as Error).message})`);
}
