/**
 * X509-SVIDs (`POST /zts/v1/svid`, a Tessera extension): the same verified
 * identity as the caller's service certificate, in the profile SPIFFE
 * validators accept. The SPIFFE X509-SVID standard allows exactly one URI SAN
 * (the SPIFFE ID), and go-spiffe refuses a leaf with more; Athenz's service
 * certificate carries two (`spiffe://…` and `athenz://instanceid/…`). siad
 * asks for this second certificate with its service certificate and serves it
 * over the SPIFFE Workload API, while its files keep the Athenz certificate.
 *
 * Nothing in the request names the identity: the SPIFFE ID is the one ZTS
 * wrote into the caller's certificate, and the SVID never outlives it.
 */
import { badRequest, forbidden, unauthorized } from '@tessera/core/errors';
import { parseCsr } from '@tessera/core/x509/csr';
import { backdated } from '@tessera/core/x509/clock-skew';
import { SignJWT } from 'jose';
import { serviceCertCaller, type Caller, type ZtsContext } from './context.ts';

export interface SvidResult {
  certPem: string;
  spiffeId: string;
  notAfter: Date;
}

/** The caller's SPIFFE ID, from the service certificate ZTS issued it (a role certificate or a revoked one is refused). */
function callerSpiffeId(ctx: ZtsContext, caller: Caller, what: string): { principal: string; spiffeId: string; notAfter: Date } {
  const { principal, cert } = serviceCertCaller(ctx, caller, `${what} needs the service certificate`);
  const spiffeIds = cert.uris.filter((u) => u.toLowerCase().startsWith('spiffe://'));
  if (spiffeIds.length !== 1) throw forbidden(`the client certificate of ${principal} carries no single SPIFFE ID: refresh it first`);
  return { principal, spiffeId: spiffeIds[0], notAfter: cert.notAfter };
}

/** A JWT-SVID's lifetime (SPIRE's default), never past the caller's certificate. */
export const JWT_SVID_SECONDS = 300;

/**
 * `POST /zts/v1/svid/jwt` (Tessera): a JWT-SVID for the caller — `sub` its
 * SPIFFE ID, `aud` the audiences asked for — signed with ZTS's token key, so
 * `GET /oauth2/keys` verifies it.
 */
export async function issueJwtSvid(ctx: ZtsContext, caller: Caller, body: Record<string, unknown>): Promise<{ token: string; spiffeId: string }> {
  const { spiffeId, notAfter } = callerSpiffeId(ctx, caller, 'a JWT-SVID');
  const audience = body.audience;
  if (!Array.isArray(audience) || audience.length === 0 || audience.some((a) => typeof a !== 'string' || a === '' || a.length > 512)) {
    throw badRequest('audience is required: a list of one or more audiences the JWT-SVID is for');
  }
  const iat = Math.floor(ctx.now().getTime() / 1000);
  const exp = Math.min(iat + JWT_SVID_SECONDS, Math.floor(notAfter.getTime() / 1000));
  const key = ctx.tokenKeys.current;
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setSubject(spiffeId)
    .setAudience(audience as string[])
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key.privateKey);
  return { token, spiffeId };
}

export async function issueSvid(ctx: ZtsContext, caller: Caller, body: Record<string, unknown>): Promise<SvidResult> {
  const { principal, spiffeId, notAfter } = callerSpiffeId(ctx, caller, 'an X509-SVID');
  if (typeof body.csr !== 'string' || body.csr === '') throw badRequest('csr is required: a PEM CSR signed by the key to certify (its names are not used)');
  const csr = await parseCsr(body.csr);
  if (!csr.signatureValid) throw badRequest('Unable to parse PKCS10 CSR: its signature does not verify with its own key');

  const now = ctx.now();
  if (notAfter.getTime() <= now.getTime()) throw unauthorized(`the client certificate of ${principal} has expired`);
  const { certPem } = await ctx.signer.sign({
    publicKeyPem: csr.publicKeyPem,
    // The CN names the Athenz principal for people reading it; validators look only at the URI.
    subject: { commonName: principal },
    uris: [spiffeId],
    notBefore: backdated(now),
    notAfter,
    usage: 'client-server',
  });
  return { certPem, spiffeId, notAfter };
}
