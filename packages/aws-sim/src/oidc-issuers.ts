/**
 * The simulator's OIDC issuers and their keys, kept in the state file:
 * EKS cluster issuers and the per-account issuers of GetWebIdentityToken.
 * Serves each issuer's discovery document and JWKS on the simulator's port
 * (`/oidc/<issuer host and path>/.well-known/openid-configuration`, `…/keys`).
 */
import type { FastifyInstance } from 'fastify';
import { decodeJwt, discoveryDocument, generateIssuerKey, invalidIdentityToken, issuerBaseUrl, IssuerKeys, type IssuerKey, type JwtClaims, type SigningAlg } from './oidc.ts';
import type { SimContext } from './sim-context.ts';

export class OidcIssuers {
  private readonly loaded = new Map<string, IssuerKeys>();

  constructor(private readonly ctx: SimContext) {}

  /** Creates the issuer's keys on first use (one per algorithm); `seed` keeps an older shared key. */
  ensure(issuer: string, algs: SigningAlg[], seed?: IssuerKey): void {
    if (this.ctx.state.oidcIssuers[issuer]) return;
    this.ctx.state.oidcIssuers[issuer] = { keys: algs.map((alg) => (seed?.alg === alg ? seed : generateIssuerKey(alg))) };
    this.ctx.persist();
  }

  has(issuer: string): boolean {
    return this.ctx.state.oidcIssuers[issuer] !== undefined;
  }

  private keys(issuer: string): IssuerKeys {
    const record = this.ctx.state.oidcIssuers[issuer];
    if (!record) throw invalidIdentityToken(`Unknown issuer ${issuer}`);
    let k = this.loaded.get(issuer);
    if (!k) {
      k = new IssuerKeys(record.keys);
      this.loaded.set(issuer, k);
    }
    return k;
  }

  sign(issuer: string, claims: JwtClaims, alg: SigningAlg = 'RS256'): string {
    return this.keys(issuer).sign({ ...claims, iss: issuer }, alg);
  }

  /** A token of one of the simulator's issuers: signature and time window checked. */
  verify(token: string, now: Date): JwtClaims & { iss: string } {
    const { claims } = decodeJwt(token);
    if (typeof claims.iss !== 'string' || !this.has(claims.iss)) throw invalidIdentityToken('The token has no valid issuer.');
    return { ...this.keys(claims.iss).verify(token, now), iss: claims.iss };
  }

  /**
   * A new signing key per algorithm; the previous one stays in the JWKS so
   * that tokens it signed still verify (older ones are dropped).
   */
  rotate(issuer: string): string[] {
    const record = this.ctx.state.oidcIssuers[issuer];
    if (!record) throw invalidIdentityToken(`Unknown issuer ${issuer}`);
    const algs = [...new Set(record.keys.map((k) => k.alg))];
    const fresh = algs.map((alg) => generateIssuerKey(alg));
    const previous = algs.map((alg) => record.keys.find((k) => k.alg === alg)!);
    record.keys = [...fresh, ...previous];
    this.loaded.delete(issuer);
    this.ctx.persist();
    return fresh.map((k) => k.kid);
  }

  register(app: FastifyInstance): void {
    app.get('/oidc/*', async (req, reply) => {
      const rest = (req.params as { '*': string })['*'];
      const m = /^(.+?)\/(\.well-known\/openid-configuration|keys)$/.exec(rest);
      const issuer = m ? `https://${m[1]}` : '';
      if (!m || !this.has(issuer)) return reply.code(404).send({ code: 404, message: `aws-sim has no OIDC issuer at ${rest}` });
      if (m[2] === 'keys') return this.keys(issuer).jwks();
      const algs = [...new Set(this.ctx.state.oidcIssuers[issuer].keys.map((k) => k.alg))];
      return discoveryDocument(issuer, `${issuerBaseUrl(this.ctx.url(), issuer)}/keys`, algs);
    });
  }
}
