/** The EKS pod's projected service-account token for ZTS, named by a variable (its pod spec's projected volume). */
import { readFileSync } from 'node:fs';

export const SA_TOKEN_FILE_ENV = 'TESSERA_SA_TOKEN_FILE';

/** On EKS, the token's text, for naming the service when nothing else does; unreadable: none (attestation says why). */
export function podTokenForConfig(platform: string, env: Record<string, string | undefined>): string | undefined {
  const file = env[SA_TOKEN_FILE_ENV];
  if (platform !== 'eks' || !file) return undefined;
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
