/**
 * OIDC issuers of the simulator: one per EKS cluster (service-account tokens)
 * and one per account for STS GetWebIdentityToken. Each issuer has its own
 * signing keys; the newest signs, older ones stay in the JWKS until rotated
 * out, as EKS keeps the previous key while tokens signed by it are alive.
 * Issuer URLs keep AWS's forms; the simulator serves their discovery
 * document and JWKS under `$AWS_SIM_URL/oidc/<issuer host and path>/`.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { AwsError } from './aws-error.ts';

export type JwtClaims = Record<string, unknown> & {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
};

export type SigningAlg = 'RS256' | 'ES384';

export interface IssuerKey {
  kid: string;
  alg: SigningAlg;
  keyPem: string;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');
const HASH: Record<SigningAlg, string> = { RS256: 'sha256', ES384: 'sha384' };

export const invalidIdentityToken = (message: string): AwsError => new AwsError('InvalidIdentityToken', message, 400);

export function eksIssuer(region: string, oidcId: string): string {
  return `https://oidc.eks.${region}.amazonaws.com/id/${oidcId}`;
}

/** Where the simulator serves an issuer's documents: `$AWS_SIM_URL/oidc/<host>/<path>`. */
export function issuerBaseUrl(simUrl: string, issuer: string): string {
  return `${simUrl}/oidc/${issuer.replace(/^https:\/\//, '')}`;
}

export function generateIssuerKey(alg: SigningAlg): IssuerKey {
  const { privateKey, publicKey } =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { alg, kid: createHash('sha1').update(der).digest('hex'), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

interface LoadedKey extends IssuerKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** The keys of one issuer, newest first. */
export class IssuerKeys {
  private readonly keys: LoadedKey[];

  constructor(keys: IssuerKey[]) {
    this.keys = keys.map((k) => {
      const privateKey = createPrivateKey(k.keyPem);
      return { ...k, privateKey, publicKey: createPublicKey(privateKey) };
    });
  }

  sign(claims: JwtClaims, alg: SigningAlg = 'RS256'): string {
    const key = this.keys.find((k) => k.alg === alg);
    if (!key) throw invalidIdentityToken(`The issuer has no ${alg} key`);
    const head = b64url(JSON.stringify({ alg, kid: key.kid, typ: 'JWT' }));
    const body = b64url(JSON.stringify(claims));
    const sig = sign(HASH[alg], Buffer.from(`${head}.${body}`), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${head}.${body}.${b64url(sig)}`;
  }

  /** Signature (by kid and alg), and time window; the caller checks issuer and audience. */
  verify(token: string, now: Date): JwtClaims {
    const parts = token.trim().split('.');
    if (parts.length !== 3) throw invalidIdentityToken('The ID Token provided is not a valid JWT.');
    const { header, claims } = decodeJwt(token);
    const key = this.keys.find((k) => k.kid === header.kid && k.alg === header.alg);
    const ok =
      key !== undefined &&
      verify(HASH[key.alg], Buffer.from(`${parts[0]}.${parts[1]}`), { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
    if (!ok) throw invalidIdentityToken("Couldn't verify the token signature.");
    const seconds = Math.floor(now.getTime() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= seconds) {
      throw new AwsError(
        'ExpiredTokenException',
        `Token expired: current date/time ${seconds} must be before the expiration date/time ${String(claims.exp)}`,
        400,
      );
    }
    if (typeof claims.nbf === 'number' && claims.nbf > seconds + 60) {
      throw invalidIdentityToken('The token is not yet valid.');
    }
    return claims;
  }

  jwks(): { keys: object[] } {
    return { keys: this.keys.map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, alg: k.alg, use: 'sig' })) };
  }
}

/** Header and claims without checking anything (to find the issuer whose keys verify it). */
export function decodeJwt(token: string): { header: { alg?: string; kid?: string }; claims: JwtClaims } {
  const parts = token.trim().split('.');
  if (parts.length !== 3) throw invalidIdentityToken('The ID Token provided is not a valid JWT.');
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { alg?: string; kid?: string };
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as JwtClaims;
    if (typeof header !== 'object' || header === null || typeof claims !== 'object' || claims === null) throw new Error('not objects');
    return { header, claims };
  } catch {
    throw invalidIdentityToken('The ID Token provided is not a valid JWT.');
  }
}

/** The discovery document of an issuer whose keys the simulator serves at `jwksUri`. */
export function discoveryDocument(issuer: string, jwksUri: string, algs: SigningAlg[]): object {
  return {
    issuer,
    jwks_uri: jwksUri,
    authorization_endpoint: 'urn:kubernetes:programmatic_authorization',
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    claims_supported: ['sub', 'iss'],
    id_token_signing_alg_values_supported: algs,
  };
}

export function audiences(claims: JwtClaims): string[] {
  const aud = claims.aud;
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}
