/**
 * Proves AWS identity with the credentials the workload presents: STS
 * GetCallerIdentity, signed (SigV4, the AWS SDK's signer) with those
 * credentials. Every check shares one keep-alive connection pool; building an
 * SDK client per call (each with its own connection) cost about a millisecond
 * of CPU and a new TCP/TLS connection per register.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import { ProviderError } from '../instance-provider.ts';

export interface StsSettings {
  region: string;
  endpoint?: string;
  timeoutMs: number;
}

export type CallerIdentityCheck = (creds: { access: string; secret: string; token: string }) => Promise<string>;

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the SigV4 signer asks for. */
class Sha256 {
  private readonly secret?: string | Uint8Array;
  private h: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.secret = secret === undefined ? undefined : bytes(secret);
    this.h = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret !== undefined ? createHmac('sha256', this.secret) : createHash('sha256');
  }

  update(data: SourceData): void {
    this.h.update(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }

  reset(): void {
    this.h = this.fresh();
  }
}

const BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
const MAX_RESPONSE_BYTES = 64 * 1024;

const xmlText = (xml: string, tag: string): string | undefined => {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m?.[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
};

/** Returns the caller ARN STS reports; ProviderError 403 when STS refuses, 504 when it is slow or down. */
export function stsCallerIdentity(s: StsSettings): CallerIdentityCheck {
  const url = new URL(s.endpoint ?? `https://sts.${s.region}.amazonaws.com`);
  const https = url.protocol === 'https:';
  const agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = https ? httpsRequest : httpRequest;
  const port = url.port ? Number(url.port) : undefined;

  /** One signed POST; resolves with the status and body, rejects on network errors and the deadline. */
  const post = async (creds: { access: string; secret: string; token: string }, signal: AbortSignal) => {
    const signer = new SignatureV4({
      service: 'sts',
      region: s.region,
      sha256: Sha256,
      credentials: { accessKeyId: creds.access, secretAccessKey: creds.secret, ...(creds.token ? { sessionToken: creds.token } : {}) },
    });
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(port ? { port } : {}),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: BODY,
    });
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = send(
        { agent, method: 'POST', protocol: url.protocol, hostname: url.hostname, port, path: url.pathname, headers: { ...signed.headers, 'content-length': Buffer.byteLength(BODY) }, signal },
        (res: IncomingMessage) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            text += c;
            if (text.length > MAX_RESPONSE_BYTES) res.destroy(new Error('STS answer too large'));
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(BODY);
    });
  };

  return async (creds) => {
    const signal = AbortSignal.timeout(s.timeoutMs);
    let last = '';
    // Two attempts, as the SDK's maxAttempts 2: a server error or a dropped connection is retried once.
    for (let attempt = 0; attempt < 2; attempt++) {
      let r: { status: number; text: string };
      try {
        r = await post(creds, signal);
      } catch (e) {
        const err = e as Error;
        last = `${err.name ?? 'error'}: ${err.message ?? ''}`;
        if (signal.aborted) break;
        continue;
      }
      if (r.status === 200) {
        const arn = xmlText(r.text, 'Arn');
        if (!arn) throw new ProviderError('STS GetCallerIdentity returned no ARN');
        return arn;
      }
      const code = xmlText(r.text, 'Code') ?? `HTTP ${r.status}`;
      const message = xmlText(r.text, 'Message') ?? '';
      if (r.status >= 400 && r.status < 500) {
        throw new ProviderError(`AWS STS rejected the presented credentials (${code}: ${message}); send fresh credentials of the assumed role`);
      }
      last = `${code}: ${message}`;
    }
    throw new ProviderError(`AWS STS did not answer in time or failed (${last}); try again later`, 504);
  };
}
