/**
 * SigV4 verification: parse the Authorization header, then recompute the
 * signature with @smithy/signature-v4 (the SDK's own signer) over exactly the
 * headers the client says it signed, and compare in constant time.
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsError } from './aws-error.ts';

/** An incoming HTTP request as the verifier needs it. */
export interface SignedRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface SigV4Authorization {
  accessKeyId: string;
  /** From X-Amz-Date. */
  date: Date;
  scopeDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** AWS refuses requests signed more than this far from its clock. */
export const MAX_SKEW_MS = 5 * 60_000;

const incomplete = (message: string): AwsError => new AwsError('IncompleteSignature', message, 400);
export const signatureMismatch = (message?: string): AwsError =>
  new AwsError(
    'SignatureDoesNotMatch',
    message ??
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    403,
  );

function header(req: SignedRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Undefined when the request carries no SigV4 Authorization header at all. */
export function parseAuthorization(req: SignedRequest): SigV4Authorization | undefined {
  const auth = header(req, 'authorization');
  if (auth === undefined) return undefined;
  const m = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(auth.trim());
  if (!m) throw incomplete(`Unsupported AWS 'algorithm' in Authorization header: only AWS4-HMAC-SHA256 is accepted.`);
  const fields = new Map<string, string>();
  for (const part of m[1].split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) {
    throw incomplete(`Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.`);
  }
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || !/^\d{8}$/.test(scope[1]) || !scope[0]) {
    throw incomplete(`Authorization header has a malformed Credential: '${credential}'.`);
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) throw signatureMismatch();
  const amzDate = header(req, 'x-amz-date');
  if (amzDate === undefined) throw incomplete(`Authorization header requires existence of a 'X-Amz-Date' header.`);
  const date = parseAmzDate(amzDate);
  if (!date) throw incomplete(`X-Amz-Date '${amzDate}' is not in the form YYYYMMDD'T'HHMMSS'Z'.`);
  const names = signedHeaders.split(';').map((h) => h.trim().toLowerCase());
  if (!names.includes('host')) throw incomplete(`'Host' must be a signed header.`);
  if (!names.includes('x-amz-date')) throw incomplete(`'X-Amz-Date' must be a signed header.`);
  return {
    accessKeyId: scope[0],
    date,
    scopeDate: scope[1],
    region: scope[2],
    service: scope[3],
    signedHeaders: names,
    signature,
  };
}

/** RequestExpired when the signing time is more than five minutes from the simulator's clock. */
export function checkSkew(auth: SigV4Authorization, now: Date): void {
  const skew = auth.date.getTime() - now.getTime();
  if (skew < -MAX_SKEW_MS) {
    throw new AwsError('RequestExpired', `Request has expired: signed at ${auth.date.toISOString()}, now ${now.toISOString()}.`, 400);
  }
  if (skew > MAX_SKEW_MS) {
    throw new AwsError('RequestExpired', `Signature not yet current: signed at ${auth.date.toISOString()}, now ${now.toISOString()}.`, 400);
  }
  if (auth.date.toISOString().slice(0, 10).replace(/-/g, '') !== auth.scopeDate) {
    throw signatureMismatch(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.`);
  }
}

type Data = string | ArrayBuffer | ArrayBufferView;

const bytes = (d: Data): Buffer =>
  typeof d === 'string'
    ? Buffer.from(d, 'utf8')
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);

/** The hash/HMAC constructor the smithy signer expects, on node:crypto. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: Data) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: Data): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** Throws SignatureDoesNotMatch unless the request was signed with this secret (and session token). */
export async function verifySignature(
  req: SignedRequest,
  auth: SigV4Authorization,
  secretAccessKey: string,
  sessionToken?: string,
): Promise<void> {
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const v = header(req, name);
    if (v === undefined) throw signatureMismatch(`Signed header '${name}' is missing from the request.`);
    headers[name] = v;
  }
  // The signer trusts x-amz-content-sha256 as the payload hash; AWS checks it against the body.
  const claimed = headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== createHash('sha256').update(req.body).digest('hex')) {
    throw signatureMismatch('The provided x-amz-content-sha256 header does not match what was computed.');
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey, sessionToken },
    region: auth.region,
    service: auth.service,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: headers.host ?? '',
      path: req.path,
      query: req.query,
      headers,
      body: req.body.length > 0 ? new Uint8Array(req.body) : undefined,
    },
    { signingDate: auth.date, signableHeaders: new Set(auth.signedHeaders) },
  );
  const computed = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? '';
  const names = /SignedHeaders=([^,]+)/.exec(String(signed.headers.authorization))?.[1] ?? '';
  const a = Buffer.from(computed, 'hex');
  const b = Buffer.from(auth.signature, 'hex');
  if (names !== auth.signedHeaders.join(';') || a.length !== b.length || !timingSafeEqual(a, b)) {
    throw signatureMismatch();
  }
}
