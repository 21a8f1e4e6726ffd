/**
 * The EKS pod's projected service-account token for ZTS, named by a variable
 * (its pod spec's projected volume), and what siad reads from it without
 * verifying it: ZTS verifies the token.
 */
import { readFileSync } from 'node:fs';

export const SA_TOKEN_FILE_ENV = 'TESSERA_SA_TOKEN_FILE';

/** On EKS with the variable set: the file, and the token or why it cannot be read. */
export function readPodToken(platform: string, env: Record<string, string | undefined>): { file: string; token?: string; error?: string } | undefined {
  const file = env[SA_TOKEN_FILE_ENV];
  if (platform !== 'eks' || !file) return undefined;
  try {
    const token = readFileSync(file, 'utf8').trim();
    return token ? { file, token } : { file, error: `${file} is empty` };
  } catch (e) {
    return { file, error: `cannot read ${file}: ${(e as Error).message}` };
  }
}

/** A JWT's claims, unverified; undefined when it is not a JWT. */
export function unverifiedClaims(jwt: string): Record<string, unknown> | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The service account a projected token names (`sub: system:serviceaccount:<namespace>:<name>`). */
export function serviceAccountOf(sub: unknown): string | undefined {
  return typeof sub === 'string' ? /^system:serviceaccount:[^:]+:([^:]+)$/.exec(sub)?.[1] : undefined;
}
