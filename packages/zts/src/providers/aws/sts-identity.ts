/**
 * Proves AWS identity with the credentials the workload presents: STS
 * GetCallerIdentity, signed (AWS Signature Version 4) with those credentials.
 * Every check shares one keep-alive connection pool. An AWS SDK client per
 * call cost about a millisecond of CPU and a new connection per register; the
 * SDK's signer alone about 0.3 ms for this one fixed request.
 */
import { createHash, createHmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { fact, refusal } from '@tessera/core/explained';
import { ProviderError } from '../instance-provider.ts';

export interface StsSettings {
  region: string;
  endpoint?: string;
  timeoutMs: number;
}

export type CallerIdentityCheck = (creds: { access: string; secret: string; token: string }) => Promise<string>;

const BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
const CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';
const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');
const BODY_SHA256 = sha256Hex(BODY);
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * The headers of a SigV4-signed POST of BODY (AWS General Reference, "Create a
 * signed AWS API request"): canonical request, string to sign, signing key
 * derived from the secret, date, region and service.
 */
export function signedHeaders(
  o: { host: string; path: string; region: string; now: Date },
  creds: { access: string; secret: string; token: string },
): Record<string, string> {
  const amzDate = o.now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''); // 20260102T030405Z
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = { 'content-type': CONTENT_TYPE, host: o.host, 'x-amz-date': amzDate };
  if (creds.token) headers['x-amz-security-token'] = creds.token;
  const names = Object.keys(headers).sort();
  const signed = names.join(';');
  const canonical = ['POST', o.path, '', ...names.map((n) => `${n}:${headers[n].trim()}`), '', signed, BODY_SHA256].join('\n');
  const scope = `${day}/${o.region}/sts/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secret}`, day), o.region), 'sts'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${creds.access}/${scope}, SignedHeaders=${signed}, Signature=${signature}` };
}

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
  const post = (creds: { access: string; secret: string; token: string }, signal: AbortSignal) => {
    const headers = signedHeaders({ host: url.host, path: url.pathname, region: s.region, now: new Date() }, creds);
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = send(
        { agent, method: 'POST', protocol: url.protocol, hostname: url.hostname, port, path: url.pathname, headers: { ...headers, 'content-length': Buffer.byteLength(BODY) }, signal },
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
        if (!arn) throw new ProviderError(refusal('sts_no_arn')`STS GetCallerIdentity returned no ARN`);
        return arn;
      }
      const code = xmlText(r.text, 'Code') ?? `HTTP ${r.status}`;
      const message = xmlText(r.text, 'Message') ?? '';
      if (r.status >= 400 && r.status < 500) {
        throw new ProviderError(
          refusal('sts_rejected')`AWS STS rejected the presented credentials (${fact('stsCode', code)}: ${fact('stsMessage', message)}); send fresh credentials of the assumed role`,
        );
      }
      last = `${code}: ${message}`;
    }
    throw new ProviderError(refusal('sts_unavailable')`AWS STS did not answer in time or failed (${fact('stsError', last)}); try again later`, 504);
  };
}
