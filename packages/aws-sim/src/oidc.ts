/**
 * The OIDC issuer behind EKS service-account tokens: RS256 JWTs signed with a
 * simulator-owned key. Issuers have EKS's form
 * (`https://oidc.eks.<region>.amazonaws.com/id/<ID>`); their discovery
 * document and JWKS are served by the simulator under `/oidc/id/<ID>/`.
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

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export const invalidIdentityToken = (message: string): AwsError => new AwsError('InvalidIdentityToken', message, 400);

export function eksIssuer(region: string, oidcId: string): string {
  return `https://oidc.eks.${region}.amazonaws.com/id/${oidcId}`;
}

export class OidcSigner {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;

  constructor(
    keyPem: string,
    readonly kid: string,
  ) {
    this.privateKey = createPrivateKey(keyPem);
    this.publicKey = createPublicKey(this.privateKey);
  }

  static generate(): { keyPem: string; kid: string } {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const der = publicKey.export({ type: 'spki', format: 'der' });
    return {
      keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      kid: createHash('sha1').update(der).digest('hex'),
    };
  }

  sign(claims: JwtClaims): string {
    const head = b64url(JSON.stringify({ alg: 'RS256', kid: this.kid }));
    const body = b64url(JSON.stringify(claims));
    const sig = sign('sha256', Buffer.from(`${head}.${body}`), this.privateKey);
    return `${head}.${body}.${b64url(sig)}`;
  }

  /** Signature, algorithm and time window; the caller checks issuer and audience. */
  verify(token: string, now: Date): JwtClaims {
    const parts = token.trim().split('.');
    if (parts.length !== 3) throw invalidIdentityToken('The ID Token provided is not a valid JWT.');
    let header: { alg?: string; kid?: string };
    let claims: JwtClaims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      throw invalidIdentityToken('The ID Token provided is not a valid JWT.');
    }
    if (typeof claims !== 'object' || claims === null || header?.alg !== 'RS256') {
      throw invalidIdentityToken('The ID Token provided is not a valid JWT.');
    }
    const ok =
      header.kid === this.kid &&
      verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, Buffer.from(parts[2], 'base64url'));
    if (!ok) throw invalidIdentityToken('Couldn\'t verify the token signature.');
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
    const jwk = this.publicKey.export({ format: 'jwk' });
    return { keys: [{ ...jwk, kid: this.kid, alg: 'RS256', use: 'sig' }] };
  }

  /** The discovery document of an issuer whose keys the simulator serves at `jwksUri`. */
  discovery(issuer: string, jwksUri: string): object {
    return {
      issuer,
      jwks_uri: jwksUri,
      authorization_endpoint: 'urn:kubernetes:programmatic_authorization',
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      claims_supported: ['sub', 'iss'],
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }
}

export function audiences(claims: JwtClaims): string[] {
  const aud = claims.aud;
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}
