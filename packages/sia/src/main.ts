/** siad: the Athenz-compatible agent beside EKS pods and Fargate tasks (one-shot commands). */
import { parseFlags } from './flags.ts';
import { configFromEnv, configFromFile, identityFromRoleName, type IdentityConfig } from './identity-config.ts';
import { discoverWorkload, type Workload } from './aws-identity.ts';
import { refresh, register, roleCerts, type RunContext } from './commands.ts';

export const VERSION = '0.1.0';

const COMMANDS: Record<string, (c: RunContext) => Promise<void>> = {
  post: register,
  register,
  rotate: refresh,
  refresh,
  rolecert: roleCerts,
};

function identity(configPath: string, env: NodeJS.ProcessEnv, w: Workload): IdentityConfig {
  const fromFile = configFromFile(configPath);
  if (fromFile) return fromFile;
  const fromEnv = configFromEnv(env);
  if (fromEnv) return fromEnv;
  const fromRole = identityFromRoleName(w.roleName);
  if (fromRole) return { ...fromRole, roles: (env.ATHENZ_SIA_ROLES ?? '').split(',').filter(Boolean), source: `IAM role ${w.roleName}` };
  throw new Error(
    `no identity configured; searched: the config file ${configPath}, the variables ATHENZ_SIA_DOMAIN_NAME and ATHENZ_SIA_SERVICE_NAME, ` +
      `and the IAM role name ${w.roleName} (expected <domain>.<service>-service)`,
  );
}

export async function main(args: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  try {
    const flags = parseFlags(args);
    if (flags.version) {
      out(`siad (Tessera) ${VERSION}\n`);
      return 0;
    }
    for (const [name, value] of [['-zts', flags.zts], ['-dnsdomains', flags.dnsdomains], ['-providerprefix', flags.providerprefix]] as const) {
      if (!value) throw new Error(`${name} is required`);
    }
    const commands = flags.cmd.split(',').filter(Boolean);
    if (commands.length === 0) throw new Error('this siad runs one-shot commands: give -cmd post, rotate or rolecert (daemon mode is not built yet)');
    for (const c of commands) if (!COMMANDS[c]) throw new Error(`unknown -cmd ${c} (post, register, rotate, refresh, rolecert)`);
    const workload = await discoverWorkload(env);
    const id = identity(flags.config, env, workload);
    out(`siad: ${id.domain}.${id.service} (from ${id.source}) on ${workload.platform}, instance ${workload.instanceId}, provider ${flags.providerprefix}.${workload.region}\n`);
    const ctx: RunContext = { flags, identity: id, workload, log: (l) => out(`siad: ${l}\n`) };
    for (const c of commands) await COMMANDS[c](ctx);
    return 0;
  } catch (e) {
    err(`siad: ${(e as Error).message}\n`);
    return 1;
  }
}
