/**
 * Who sent this request? SigV4 checked in AWS's order: a well-formed
 * signature, a signing time within five minutes, a known key, the matching
 * session token, an unexpired session, and finally the signature itself.
 */
import type { Clock } from './clock.ts';
import { AwsError } from './aws-error.ts';
import { invalidClientTokenId, type CredentialStore, type Principal } from './credentials.ts';
import { checkSkew, parseAuthorization, verifySignature, type SignedRequest } from './sigv4-verify.ts';

export interface Authenticated {
  principal: Principal;
  /** The service named in the credential scope (`sts`, `iam`). */
  service: string;
  region: string;
}

/** Undefined for an unsigned request (only AssumeRoleWithWebIdentity accepts those). */
export async function authenticate(
  req: SignedRequest,
  credentials: CredentialStore,
  clock: Clock,
): Promise<Authenticated | undefined> {
  const auth = parseAuthorization(req);
  if (!auth) return undefined;
  checkSkew(auth, clock());
  const key = credentials.lookup(auth.accessKeyId);
  if (!key) throw invalidClientTokenId();
  const token = req.headers['x-amz-security-token'];
  if (key.sessionToken !== undefined) {
    if (token !== key.sessionToken) throw invalidClientTokenId();
    if (key.expiration && key.expiration.getTime() <= clock().getTime()) {
      throw new AwsError('ExpiredToken', 'The security token included in the request is expired', 403);
    }
  } else if (token !== undefined) {
    // A long-term key never comes with a session token.
    throw invalidClientTokenId();
  }
  await verifySignature(req, auth, key.secretAccessKey, key.sessionToken);
  return { principal: key.principal, service: auth.service, region: auth.region };
}
