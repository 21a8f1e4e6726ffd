/** The one-shot `-cmd` commands, built from the steps, with Athenz's `.done` files and hooks. */
import { CommandError, type Agent } from './agent.ts';
import { touchDone } from './files.ts';
import { Hooks } from './hooks.ts';
import { fetchRoleCerts } from './role-cert.ts';
import { registerService, refreshService } from './service-cert.ts';
import { fetchAccessTokens } from './token-fetch.ts';

async function roleCertsCommand(a: Agent, hooks: Hooks, skipErrors: boolean): Promise<void> {
  if (a.config.roles.length === 0) {
    a.log('no role certificates configured (sia_config accounts[].roles, or ATHENZ_SIA_ACCOUNT_ROLES)');
    return;
  }
  const { certs, failed } = await fetchRoleCerts(a);
  if (failed.length > 0) {
    await hooks.certsFailed(failed.map((f) => f.role));
    if (!skipErrors) throw new CommandError(failed.length === 1 ? failed[0].error.message : `${failed.length} role certificates failed: ${failed.map((f) => f.role).join(', ')}`);
  }
  await hooks.afterCerts(certs.flatMap((c) => c.files));
}

async function registerAll(a: Agent, hooks: Hooks, refresh = false): Promise<void> {
  const files: string[] = [];
  for (const svc of a.config.services) files.push(...(await (refresh ? refreshService(a, svc) : registerService(a, svc))).files);
  await hooks.afterCerts(files);
}

/** One `-cmd` part, e.g. `rolecert:skip-errors`. */
export async function runCommand(a: Agent, part: string): Promise<void> {
  const [cmd, option] = part.split(':');
  const skipErrors = option === 'skip-errors';
  const hooks = new Hooks(a.config, { log: a.log, env: a.env });
  switch (cmd) {
    case 'post':
    case 'register':
      await registerAll(a, hooks);
      touchDone(a.siaDir, 'register', a.now());
      return;
    case 'rotate':
    case 'refresh':
      await registerAll(a, hooks, true);
      touchDone(a.siaDir, 'refresh', a.now());
      return;
    case 'rolecert':
      await roleCertsCommand(a, hooks, skipErrors);
      touchDone(a.siaDir, 'rolecert', a.now());
      return;
    case 'init':
      await registerAll(a, hooks);
      await roleCertsCommand(a, hooks, skipErrors);
      touchDone(a.siaDir, 'init', a.now());
      return;
    case 'token': {
      if (a.config.accessTokens.length === 0) {
        a.log('no access tokens configured (sia_config access_tokens, or ATHENZ_SIA_ACCESS_TOKENS)');
        return;
      }
      const { files, failed } = await fetchAccessTokens(a);
      if (failed.length > 0) await hooks.tokensFailed(failed.map((f) => `${f.name}: ${f.error.message}`).join('; '));
      await hooks.afterTokens(files);
      if (failed.length > 0 && !skipErrors) {
        throw new CommandError(failed.length === 1 ? failed[0].error.message : `${failed.length} access tokens failed: ${failed.map((f) => f.name).join(', ')}`);
      }
      touchDone(a.siaDir, 'token', a.now());
      return;
    }
    default:
      throw new CommandError(`unknown -cmd ${cmd} (post, register, rotate, refresh, rolecert, token, init; none for the daemon)`);
  }
}
