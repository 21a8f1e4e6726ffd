/** Fetching access tokens over mTLS with the service certificate, and writing their files. */
import type { AccessTokenConfig } from './config/types.ts';
import { CommandError, commit, nameOf, refusal, type Agent } from './agent.ts';
import { tokenFileContent, tokenRefreshDue, tokenRequestBody, type TokenResponse } from './access-tokens.ts';
import { inspectService } from './service-cert.ts';

/** Athenz's token file mode: owner and group read. */
export const TOKEN_MODE = 0o440;

/** Fetches one access token with the service certificate and writes its file; returns when it is due again (ms). */
export async function fetchAccessToken(a: Agent, t: AccessTokenConfig, signal?: AbortSignal): Promise<number> {
  const svc = a.config.services.find((s) => s.name === t.service) ?? a.config.services[0];
  const current = inspectService(a, svc);
  if (!current.usable) throw new CommandError(`cannot fetch the access token ${t.name}: the service certificate of ${nameOf(a, svc)} is not usable (${current.reason}); register first (-cmd post)`);
  const res = await a.zts.accessToken<TokenResponse>(tokenRequestBody(t), { cert: current.certPem, key: current.keyPem }, signal)
    .catch((e) => refusal(`the access token ${t.name}`, e));
  if (typeof res.access_token !== 'string') throw new Error(`ZTS answered the token request for ${t.name} without an access_token: nothing was written`);
  const content = tokenFileContent(res, a.config.storeTokenOption);
  commit(a, [{ path: t.file, content, mode: TOKEN_MODE }], t);
  a.log(`${t.name}: wrote ${t.file}${res.expires_in ? `, valid for ${res.expires_in}s` : ''}`);
  return tokenRefreshDue(content);
}

/** Every configured access token: the files written, when the first is due again (ms), failed names (not thrown). */
export async function fetchAccessTokens(a: Agent, signal?: AbortSignal): Promise<{ due: number; files: string[]; failed: { name: string; error: Error }[] }> {
  let due = Number.POSITIVE_INFINITY;
  const files: string[] = [];
  const failed: { name: string; error: Error }[] = [];
  for (const t of a.config.accessTokens) {
    try {
      due = Math.min(due, await fetchAccessToken(a, t, signal));
      files.push(t.file);
    } catch (e) {
      if (signal?.aborted) break;
      a.log(`${t.name}: ${(e as Error).message}`);
      failed.push({ name: t.name, error: e as Error });
    }
  }
  return { due, files, failed };
}
