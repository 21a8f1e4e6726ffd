/**
 * The three ZTS calls siad makes, as Athenz's Go client makes them: register
 * (server-auth TLS), refresh and role certificates (mTLS with the current
 * service certificate). Failures are sorted into a refusal (ZTS said no) and
 * unavailability (worth retrying).
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { httpsJson, type HttpsRequest, type HttpsResponse } from '@tessera/core/https-client';

export interface InstanceIdentity {
  provider?: string;
  name?: string;
  instanceId?: string;
  x509Certificate: string;
  x509CertificateSigner?: string;
}

export interface ZtsClientOptions {
  /** `https://<host>:<port>/zts/v1` */
  baseUrl: string;
  /** PEM CAs trusted for ZTS's certificate; undefined = the system's. */
  ca?: string;
  servername?: string;
  userAgent: string;
  timeoutMs?: number;
}

/** ZTS answered with an error status; `message` carries ZTS's own words. */
export class ZtsRefusal extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** ZTS could not be reached or did not answer: worth retrying (not before `retryAfterMs` when ZTS said so). */
export class ZtsUnavailable extends Error {
  readonly retryAfterMs?: number;
  constructor(message: string, retryAfterMs?: number) {
    super(message);
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/** Retry-After (RFC 9110): seconds, or an HTTP date. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface Mtls {
  cert: string;
  key: string;
}

/**
 * siad calls ZTS every few minutes for as long as it runs, with a new
 * certificate after each refresh. So it keeps one TLS context for the server
 * check and one for the current certificate (a new one only when the
 * certificate changes), and no connection pool: Node's default agent would
 * make a context per request and keep sockets and TLS sessions under names
 * that contain the PEMs, which a daemon only ever adds to.
 */
export class ZtsClient {
  private readonly o: ZtsClientOptions;
  private serverOnly?: SecureContext;
  private current?: { cert: string; key: string; context: SecureContext };

  constructor(o: ZtsClientOptions) {
    this.o = o;
  }

  /** The TLS side of a request: the CA (system CAs when none), the client certificate when mTLS. */
  private tls(mtls?: Mtls): Pick<HttpsRequest, 'secureContext' | 'agent' | 'servername'> {
    const ca = this.o.ca ? { ca: this.o.ca } : {};
    let context: SecureContext;
    if (!mtls) {
      context = this.serverOnly ??= createSecureContext(ca);
    } else {
      if (this.current?.cert !== mtls.cert || this.current.key !== mtls.key) {
        this.current = { ...mtls, context: createSecureContext({ ...ca, cert: mtls.cert, key: mtls.key }) };
      }
      context = this.current.context;
    }
    return { secureContext: context, agent: false, ...(this.o.servername ? { servername: this.o.servername } : {}) };
  }

  get baseUrl(): string {
    return this.o.baseUrl;
  }

  register(body: Record<string, unknown>, signal?: AbortSignal): Promise<InstanceIdentity> {
    return this.post<InstanceIdentity>('/instance', body, 201, undefined, signal);
  }

  refresh(path: { provider: string; domain: string; service: string; instanceId: string }, body: Record<string, unknown>, mtls: Mtls, signal?: AbortSignal): Promise<InstanceIdentity> {
    const p = [path.provider, path.domain, path.service, path.instanceId].map(encodeURIComponent).join('/');
    return this.post<InstanceIdentity>(`/instance/${p}`, body, 200, mtls, signal);
  }

  /** Tessera's check-only register: ZTS's verdict on a register, nothing issued (`siad -cmd diagnose`). */
  checkRegister(body: Record<string, unknown>, signal?: AbortSignal): Promise<{ checks?: string }> {
    return this.post<{ checks?: string }>('/instance', body, 200, undefined, signal, { 'tessera-check-only': 'true' });
  }

  /** Whether ZTS answers over TLS with a certificate this client trusts; any HTTP status will do. */
  async reach(signal?: AbortSignal): Promise<void> {
    await httpsJson({
      url: `${this.o.baseUrl}/status`,
      ...this.tls(),
      headers: { 'user-agent': this.o.userAgent },
      timeoutMs: this.o.timeoutMs ?? 30_000,
      ...(signal ? { signal } : {}),
    });
  }

  roleCertificate(body: Record<string, unknown>, mtls: Mtls, signal?: AbortSignal): Promise<{ x509Certificate: string }> {
    return this.post<{ x509Certificate: string }>('/rolecert', body, 200, mtls, signal);
  }

  /** Tessera's `POST /svid`: the caller's identity as an X509-SVID (one URI SAN), for the Workload API. */
  svid(body: { csr: string }, mtls: Mtls, signal?: AbortSignal): Promise<{ x509Certificate: string; spiffeId: string }> {
    return this.post<{ x509Certificate: string; spiffeId: string }>('/svid', body, 200, mtls, signal);
  }

  /** Tessera's `POST /svid/jwt`: a JWT-SVID (sub: the caller's SPIFFE ID) for the audiences. */
  jwtSvid(body: { audience: string[] }, mtls: Mtls, signal?: AbortSignal): Promise<{ token: string; spiffeId: string }> {
    return this.post<{ token: string; spiffeId: string }>('/svid/jwt', body, 200, mtls, signal);
  }

  /** ZTS's token signing keys as an RFC 7517 JWK set (`GET /oauth2/keys?rfc=true`). */
  async jwks(signal?: AbortSignal): Promise<{ keys: Record<string, unknown>[] }> {
    const res = await httpsJson({
      url: `${this.o.baseUrl}/oauth2/keys?rfc=true`,
      ...this.tls(),
      headers: { 'user-agent': this.o.userAgent },
      timeoutMs: this.o.timeoutMs ?? 30_000,
      ...(signal ? { signal } : {}),
    }).catch((e: Error) => {
      throw new ZtsUnavailable(`cannot reach ZTS at ${this.o.baseUrl}: ${e.message}`);
    });
    const keys = (res.body as { keys?: unknown } | undefined)?.keys;
    if (res.status !== 200 || !Array.isArray(keys)) throw new ZtsUnavailable(`ZTS answered ${res.status} for its keys`);
    return { keys: keys as Record<string, unknown>[] };
  }

  /** `POST /oauth2/token`: `form` is the urlencoded request (grant_type, scope, expires_in). */
  accessToken<T>(form: string, mtls: Mtls, signal?: AbortSignal): Promise<T> {
    return this.post<T>('/oauth2/token', form, 200, mtls, signal, { 'content-type': 'application/x-www-form-urlencoded' });
  }

  private async post<T>(path: string, body: unknown, expect: number, mtls: Mtls | undefined, signal?: AbortSignal, headers: Record<string, string> = {}): Promise<T> {
    let res: HttpsResponse;
    try {
      res = await httpsJson({
        method: 'POST',
        url: `${this.o.baseUrl}${path}`,
        body,
        ...this.tls(mtls),
        headers: { 'user-agent': this.o.userAgent, ...headers },
        timeoutMs: this.o.timeoutMs ?? 30_000,
        ...(signal ? { signal } : {}),
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.name === 'AbortError') throw err;
      const detail = err.code && !err.message.includes(err.code) ? `${err.code} ${err.message}` : err.message;
      throw new ZtsUnavailable(`cannot reach ZTS at ${this.o.baseUrl}: ${detail}`);
    }
    if (res.status === expect && res.body && typeof res.body === 'object') return res.body as T;
    const message = (res.body as { message?: unknown } | undefined)?.message;
    const detail = typeof message === 'string' ? message : res.text.slice(0, 300) || '(no body)';
    if (res.status >= 500 || res.status === 429) throw new ZtsUnavailable(`ZTS answered ${res.status}: ${detail}`, retryAfterMs(res.headers['retry-after']));
    throw new ZtsRefusal(res.status, res.status === expect ? `ZTS answered ${res.status} without a JSON body` : detail);
  }
}
