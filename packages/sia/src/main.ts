/**
 * siad: the Athenz-compatible agent beside EKS pods, Fargate tasks and EC2 instances.
 *
 * Only the flags, the configuration and the ZTS client load up front; the
 * certificate code, the AWS SDK, the daemon and the socket are imported when
 * the command needs them, so that `-version` or a bad flag answers at once
 * and a sidecar carries only what it uses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AwsIdentity } from './aws-identity.ts';
import { ConfigError } from './config/types.ts';
import { configuredKeyType, resolveConfig } from './config/resolve.ts';
import { startEarlyKey, type Agent } from './agent.ts';
import type { DaemonDeps } from './daemon.ts';
import { readIfExists } from './files.ts';
import { FlagError, ONE_SHOT, SIA_FLAGS, parseSiaFlags, usage } from './flags.ts';
import { defaultMetaEndpoint, detectPlatform, type Platform } from './platform.ts';
import { ZtsClient } from './zts-client.ts';
import { readPodToken } from './pod-token.ts';

export const VERSION = '0.1.0';

export interface Io {
  env: Record<string, string | undefined>;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  now: () => Date;
  /** Root for the system files siad reads (/etc/passwd, /etc/group, the pod namespace); tests use a temp dir. */
  fsRoot?: string;
  daemon?: Partial<DaemonDeps>;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Go's log prefix (`2006/01/02 15:04:05`), so siad's lines read like Athenz's. */
export function logLine(now: Date, message: string): string {
  const d = now;
  return `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${message}\n`;
}

/** Runs siad; resolves to the exit status. `signal` is SIGTERM/SIGINT. */
export async function main(args: string[], io: Io, signal: AbortSignal = new AbortController().signal): Promise<number> {
  const log = (m: string) => io.stderr(logLine(io.now(), m));
  let aws: AwsIdentity | undefined;
  let daemon = false;
  try {
    let flags;
    try {
      flags = parseSiaFlags(args);
    } catch (e) {
      if (!(e instanceof FlagError)) throw e;
      if (e.help) {
        io.stderr(usage('siad', SIA_FLAGS));
        return 0;
      }
      io.stderr(`${e.message}\n${usage('siad', SIA_FLAGS)}`);
      return 2; // as Go's flag package
    }
    if (flags.version) {
      io.stdout(`siad (Tessera) ${VERSION}\n`);
      return 0;
    }
    const missing = (['zts', 'dnsdomains', 'providerprefix'] as const).filter((f) => !flags[f]);
    if (missing.length > 0) throw new ConfigError(`missing ${missing.map((f) => `-${f}`).join(', ')}: siad needs the ZTS host, the DNS suffixes and the provider prefix`);
    if (flags.ztsport < 1 || flags.ztsport > 65535) throw new ConfigError(`-ztsport must be a port number, not ${flags.ztsport}`);

    const parts = flags.cmd.split(',').map((c) => c.trim()).filter(Boolean);
    const daemonNames = ['daemon', 'systemd-notify', 'systemd-notify-all'];
    daemon = parts.length === 0 || (parts.length === 1 && daemonNames.includes(parts[0]));
    const diagnosing = parts.length === 1 && parts[0] === 'diagnose';
    if (!daemon && !diagnosing) {
      for (const p of parts) {
        if (!(ONE_SHOT as readonly string[]).includes(p.split(':')[0])) {
          throw new ConfigError(`unknown -cmd ${p.split(':')[0]} (post, register, rotate, refresh, rolecert, token, init, diagnose; none for the daemon)`);
        }
      }
    }

    let ca: string | undefined;
    let caError: string | undefined;
    if (flags.ztscacert) {
      try {
        ca = readFileSync(flags.ztscacert, 'utf8');
      } catch (e) {
        caError = `cannot read -ztscacert ${flags.ztscacert}: ${(e as Error).message}`;
        if (!diagnosing) throw new ConfigError(caError);
      }
    }
    // The User-Agent names the platform (SIA-FARGATE, SIA-EKS, SIA-EC2; Athenz's agents send SIA-AWS on all three): ZTS records it per instance.
    const ztsClient = (platform?: Platform) =>
      new ZtsClient({
        baseUrl: `https://${flags.zts}:${flags.ztsport}/zts/v1`,
        ...(ca ? { ca } : {}),
        ...(flags.ztsservername ? { servername: flags.ztsservername } : {}),
        userAgent: `SIA-${platform ? platform.toUpperCase() : 'AWS'} ${VERSION} (tessera siad)`,
      });
    if (diagnosing) {
      const { diagnose } = await import('./diagnose.ts');
      return await diagnose({ flags, env: io.env, zts: ztsClient(), ...(caError ? { caError } : {}), fsRoot: io.fsRoot ?? '/', out: io.stdout, log, now: io.now });
    }
    // A register's key is generated from here on, while siad finds its platform, identity and credentials.
    const earlyKey = ['post', 'register', 'init'].includes(parts[0]?.split(':')[0] ?? '')
      ? startEarlyKey(configuredKeyType(readIfExists(flags.config), io.env))
      : undefined;
    const platform = await detectPlatform(io.env, flags.platform, { meta: flags.meta, assumeEc2: daemon, log });
    const zts = ztsClient(platform);
    const fsRoot = io.fsRoot ?? '/';
    const etcDir = join(fsRoot, 'etc');
    const rootFile = (path: string) => readFileSync(join(fsRoot, path), 'utf8');
    const { AwsIdentity } = await import('./aws-identity.ts');
    const awsIdentity = new AwsIdentity({ env: io.env, meta: flags.meta || defaultMetaEndpoint(platform), regionalSts: flags.regionalsts, readFile: rootFile });
    aws = awsIdentity;

    const setup = async (sig: AbortSignal): Promise<Agent> => {
      const workload = await awsIdentity.discover(platform, sig);
      const config = await resolveConfig({
        configPath: flags.config,
        fileText: readIfExists(flags.config),
        env: io.env,
        siaDir: flags.siadir,
        serviceAccountToken: readPodToken(platform, io.env)?.token,
        workloadRole: () => awsIdentity.workloadRole(platform, sig),
        workloadAccount: () => awsIdentity.workloadAccount(platform, sig),
      });
      awsIdentity.useRegionalSts(flags.regionalsts || config.regionalSts);
      // The flags win, then the standard SPIFFE variable, then sds_uds_path / ATHENZ_SIA_SDS_UDS_PATH.
      const socket = flags.socket || flags.uds || io.env.SPIFFE_ENDPOINT_SOCKET || config.socket;
      if (socket) config.socket = socket;
      if (socket && !daemon) log(`the socket ${socket} is served by the daemon only; -cmd ${flags.cmd} ignores it`);
      for (const w of config.warnings) log(`warning: ${w}`);
      const provider = `${flags.providerprefix}.${workload.region}`;
      log(`${config.domain}.${config.service} (from ${config.source}) on ${platform}, instance ${workload.instanceId}, provider ${provider}, ZTS ${zts.baseUrl}`);
      return {
        config,
        workload,
        aws: awsIdentity,
        zts,
        provider,
        dnsDomains: flags.dnsdomains.split(',').filter(Boolean),
        siaDir: flags.siadir,
        env: io.env,
        etcDir,
        log,
        now: io.now,
        ...(earlyKey ? { earlyKey } : {}),
      };
    };

    if (daemon) {
      const { abortableSleep, runDaemon } = await import('./daemon.ts');
      const { releaseMemory } = await import('./release-memory.ts');
      await runDaemon(setup, { now: io.now, sleep: abortableSleep, random: Math.random, log, idle: releaseMemory, ...io.daemon }, signal);
      return 0;
    }
    const agent = await setup(signal);
    const { runCommand } = await import('./commands.ts');
    for (const p of parts) await runCommand(agent, p);
    return 0;
  } catch (e) {
    // SIGTERM ends the daemon normally; a one-shot command it interrupts did not finish.
    if (signal.aborted && daemon) {
      log('stopped');
      return 0;
    }
    log(signal.aborted ? 'interrupted' : `error: ${(e as Error).message}`);
    return 1;
  } finally {
    aws?.destroy();
  }
}

/** The process around main: arguments, environment, SIGTERM/SIGINT, exit status. */
export async function runProcess(): Promise<void> {
  // The AWS SDK warns that a future release needs Node 22; siad runs on Node 20 until then.
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (!/NodeVersionSupportWarning|require node >=22/.test(`${w.name} ${w.message}`)) process.stderr.write(`${w.name}: ${w.message}\n`);
  });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const code = await main(
    process.argv.slice(2),
    { env: process.env, stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), now: () => new Date() },
    stop.signal,
  );
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  // The SDK's metadata clients keep sockets that would hold the process open after a failed command.
  process.exit(code);
}
