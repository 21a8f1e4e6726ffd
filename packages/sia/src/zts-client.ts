/**
 * The three ZTS calls siad makes, as Athenz's Go client makes them: register
 * (server-auth TLS), refresh and role certificates (mTLS with the current
 * service certificate). Written on node:https rather than the shared client
 * because -ztsservername needs the TLS server name set per connection.
 */
import { request } from 'node:https';

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

/** ZTS could not be reached or did not answer: worth retrying. */
export class ZtsUnavailable extends Error {}

export interface Mtls {
  cert: string;
  key: string;
}

export class ZtsClient {
  private readonly o: ZtsClientOptions;

  constructor(o: ZtsClientOptions) {
    this.o = o;
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

  roleCertificate(body: Record<string, unknown>, mtls: Mtls, signal?: AbortSignal): Promise<{ x509Certificate: string }> {
    return this.post<{ x509Certificate: string }>('/rolecert', body, 200, mtls, signal);
  }

  private post<T>(path: string, body: unknown, expect: number, mtls: Mtls | undefined, signal?: AbortSignal): Promise<T> {
    const url = `${this.o.baseUrl}${path}`;
    const payload = JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          ca: this.o.ca,
          ...(this.o.servername ? { servername: this.o.servername } : {}),
          ...(mtls ? { cert: mtls.cert, key: mtls.key } : {}),
          minVersion: 'TLSv1.2',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            accept: 'application/json',
            'user-agent': this.o.userAgent,
          },
          timeout: this.o.timeoutMs ?? 30_000,
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(new ZtsUnavailable(`ZTS at ${this.o.baseUrl} broke off its answer: ${e.message}`)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            const status = res.statusCode ?? 0;
            if (status === expect && parsed && typeof parsed === 'object') return resolve(parsed as T);
            const message = (parsed as { message?: unknown } | undefined)?.message;
            const detail = typeof message === 'string' ? message : text.slice(0, 300) || '(no body)';
            if (status >= 500 || status === 429) return reject(new ZtsUnavailable(`ZTS answered ${status}: ${detail}`));
            reject(new ZtsRefusal(status, status === expect ? `ZTS answered ${status} without a JSON body` : detail));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${(this.o.timeoutMs ?? 30_000) / 1000}s`)));
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e.name === 'AbortError') return reject(e);
        const detail = e.code && !e.message.includes(e.code) ? `${e.code} ${e.message}` : e.message;
        reject(new ZtsUnavailable(`cannot reach ZTS at ${this.o.baseUrl}: ${detail}`));
      });
      req.end(payload);
    });
  }
}
