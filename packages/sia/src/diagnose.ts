/**
 * `siad -cmd diagnose`: run in the pod, task or instance, it follows the
 * chain a registration needs, one link at a time, and prints ✓ or ✗ with the
 * fix: platform, the workload's credentials, role name → service name,
 * AssumeRole of <domain>.<service>, the identity token (the pod's projected
 * token: present, audience, service account, issuer registered in the
 * account; or GetWebIdentityToken), ZTS reachable with a trusted CA, and
 * ZTS's own verdict from a check-only register (nothing is issued). The first
 * broken link ends the run, as every later one depends on it. Exit 0 only if
 * every link holds.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsIdentity, type Workload } from './aws-identity.ts';
import type { Agent } from './agent.ts';
import { registerRequest } from './service-cert.ts';
import { readPodToken, SA_TOKEN_FILE_ENV, serviceAccountOf, unverifiedClaims } from './pod-token.ts';
import { resolveConfig } from './config/resolve.ts';
import type { SiaConfig, WorkloadRole } from './config/types.ts';
import { readIfExists } from './files.ts';
import type { SiaFlags } from './flags.ts';
import { defaultMetaEndpoint, detectPlatform, type Platform } from './platform.ts';
import { ZtsRefusal, type ZtsClient } from './zts-client.ts';

export interface DiagnoseDeps {
  flags: SiaFlags;
  env: Record<string, string | undefined>;
  zts: ZtsClient;
  /** Set when -ztscacert could not be read. */
  caError?: string;
  fsRoot: string;
  /** Each line, with its newline. */
  out: (line: string) => void;
  log: (line: string) => void;
  now: () => Date;
}

/** A broken link: what is wrong, and what to do about it. */
class Broken extends Error {
  constructor(message: string, readonly fix: string) {
    super(message);
  }
}

const LINKS = [
  'platform',
  'workload credentials',
  'role name → service name',
  'AssumeRole of <domain>.<service>',
  'identity token',
  'ZTS reachable, its CA trusted',
  "ZTS's verdict: domain, account, service, provider allowed",
];

/** TLS errors that mean "this CA did not sign ZTS's certificate". */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
]);

export async function diagnose(d: DiagnoseDeps): Promise<number> {
  const { flags, env } = d;
  let step = 0;
  const pass = (what: string) => {
    d.out(`✓ ${what}\n`);
    step++;
  };
  let platform: Platform;
  try {
    platform = await link(
      () => detectPlatform(env, flags.platform, { meta: flags.meta }),
      'give -platform eks|fargate|ec2, and run siad -cmd diagnose inside the task, pod or instance (with its environment)',
    );
  } catch (e) {
    return report(e);
  }
  const readFile = (p: string) => readFileSync(join(d.fsRoot, p), 'utf8');
  const identity = new AwsIdentity({ env, meta: flags.meta || defaultMetaEndpoint(platform), regionalSts: flags.regionalsts, readFile });
  return withIdentity(identity, platform);

  async function withIdentity(identity: AwsIdentity, platform: Platform): Promise<number> {
    try {
      const workload = await link(() => identity.discover(platform), `siad reads this from the ${platform === 'ec2' ? 'EC2 metadata service' : platform === 'fargate' ? 'ECS task metadata' : 'pod'}; check that it is reachable from here`);
      pass(`platform ${platform}: instance ${workload.instanceId} in ${workload.region}`);
      const role = await link(
        () => identity.workloadRole(platform),
        platform === 'fargate' ? 'give the task definition a taskRoleArn (its trust policy: ecs-tasks.amazonaws.com)'
          : platform === 'eks' ? 'associate the service account with a role (Pod Identity: trust pods.eks.amazonaws.com with sts:AssumeRole and sts:TagSession; IRSA: the annotation eks.amazonaws.com/role-arn and a trust of the cluster\'s OIDC provider)'
            : 'attach an instance profile whose role trusts ec2.amazonaws.com',
      );
      pass(`workload credentials: role ${role.arn}`);
      const config = await link(() => serviceConfig(role), 'name the workload role <domain>.<service>-service (e.g. sports.api-service), or give siad a config file or ATHENZ_SIA_IAM_ROLE_ARN');
      pass(`role ${role.name} → service ${config.domain}.${config.service} (from ${config.source}), account ${config.account}`);
      const serviceRole = AwsIdentity.serviceRoleArn(config, config.service).arn;
      const assumed = identity.assumeServiceRole(config, config.service, platform);
      if (platform === 'eks' && env[SA_TOKEN_FILE_ENV]) {
        // The pod's token is what siad sends; the service role matters only for the STS fallback.
        const refused = await assumed.then(() => undefined, (e: Error) => e.message.split('\n')[0]);
        pass(refused
          ? `AssumeRole of ${serviceRole}: refused (${refused}); not needed while the pod's token is used, but the STS fallback would fail`
          : `AssumeRole of ${serviceRole}: its trust policy lets ${role.arn} in (the STS fallback)`);
      } else {
        await link(() => assumed, `in IAM, create the role ${serviceRole} (no permissions needed) with the trust statement above`);
        pass(`AssumeRole of ${serviceRole}: its trust policy lets ${role.arn} in`);
      }
      pass(await identityToken(identity, platform, config));
      await reachZts();
      pass(`ZTS at ${d.zts.baseUrl} answers, and its certificate is signed by ${flags.ztscacert ? `the CA in ${flags.ztscacert}` : 'a CA this system trusts'}`);
      await verdict(identity, platform, workload, config);
      pass(`ZTS's verdict: domain ${config.domain}, account ${config.account}, service ${config.service} and provider ${flags.providerprefix}.${workload.region} are in order; a register would succeed (nothing was issued)`);
      return 0;
    } catch (e) {
      return report(e);
    } finally {
      identity.destroy();
    }
  }

  function report(e: unknown): number {
    if (!(e instanceof Broken)) throw e;
    d.out(`✗ ${LINKS[step]}: ${e.message}\n`);
    for (const line of e.fix.split('\n')) d.out(`    ${line}\n`);
    for (const rest of LINKS.slice(step + 1)) d.out(`- ${rest}: not checked\n`);
    return 1;
  }

  /** The token siad will attest with, checked as ZTS will; or why siad will use STS credentials. */
  async function identityToken(identity: AwsIdentity, platform: Platform, config: SiaConfig): Promise<string> {
    const full = `${config.domain}.${config.service}`;
    const audience = config.awsWebIdentityAudience ?? d.zts.baseUrl;
    const file = env[SA_TOKEN_FILE_ENV];
    if (platform === 'eks' && file) {
      const mount = `mount a projected service-account token with audience ${audience} at ${file} (docs/siad.md), or unset ${SA_TOKEN_FILE_ENV} to attest with STS credentials`;
      const read = readPodToken(platform, env)!;
      if (read.error) throw new Broken(`the projected token: ${read.error}`, mount);
      const claims = unverifiedClaims(read.token!);
      if (!claims) throw new Broken(`the projected token ${file} cannot be read as a JWT`, mount);
      const aud = (Array.isArray(claims.aud) ? claims.aud : [claims.aud]).map(String);
      if (!aud.includes(audience)) {
        throw new Broken(`the projected token ${file} is for ${aud.join(', ')}, not ZTS (${audience})`, `set the projected volume's audience to ${audience} (ZTS's URL, or the --attestation-audience it was given)`);
      }
      if (typeof claims.exp !== 'number' || claims.exp * 1000 <= d.now().getTime()) {
        throw new Broken(`the projected token ${file} has expired`, 'the kubelet rewrites it before it expires: check that the volume is a projected serviceAccountToken');
      }
      const sa = serviceAccountOf(claims.sub);
      if (sa !== full) throw new Broken(`the pod runs as service account ${sa ?? String(claims.sub)}, and ZTS requires ${full}`, `run the pod as a Kubernetes service account named ${full}`);
      const issuer = String(claims.iss);
      const providerArn = `arn:aws:iam::${config.account}:oidc-provider/${issuer.replace(/^https:\/\//, '')}`;
      let registered: string;
      try {
        registered = (await identity.oidcProviderArns()).includes(providerArn)
          ? `issuer ${issuer} is an OIDC provider of account ${config.account}`
          : '';
      } catch (e) {
        registered = `whether issuer ${issuer} is an OIDC provider of account ${config.account} could not be read here (${(e as Error).name}); ZTS checks it below`;
      }
      if (!registered) {
        throw new Broken(`the cluster's issuer ${issuer} is not an IAM OIDC provider of account ${config.account}`, `register it: eksctl utils associate-iam-oidc-provider --cluster <cluster> --approve (or aws iam create-open-id-connect-provider --url ${issuer})`);
      }
      return `identity token: the projected token ${file} for ${audience}, service account ${full}; ${registered}`;
    }
    if (config.awsWebIdentity) {
      const creds = await link(() => identity.assumeServiceRole(config, config.service, platform), 'see AssumeRole above');
      await link(
        () => identity.webIdentityToken(creds, { audience, algorithm: config.awsWebIdentitySigningAlgorithm }),
        `enable outbound web identity federation in account ${config.account} (aws iam enable-outbound-web-identity-federation), or turn aws_web_identity off to attest with STS credentials`,
      );
      return `identity token: GetWebIdentityToken gives a ${config.awsWebIdentitySigningAlgorithm} token of role ${full} for ${audience}`;
    }
    const hint = platform === 'eks'
      ? `add a projected service-account token volume with audience ${audience} and set ${SA_TOKEN_FILE_ENV} to its path`
      : 'once the account enables outbound web identity federation, set aws_web_identity in sia_config';
    return `identity token: none; siad attests with STS credentials (ZTS then calls STS for every certificate); to use a token, ${hint}`;
  }

  function serviceConfig(role: WorkloadRole): Promise<SiaConfig> {
    return resolveConfig({
      configPath: flags.config, fileText: readIfExists(flags.config), env, siaDir: flags.siadir,
      serviceAccountToken: readPodToken(platform, env)?.token, workloadRole: async () => role, workloadAccount: async () => role.account,
    });
  }

  async function reachZts(): Promise<void> {
    if (d.caError) throw new Broken(d.caError, 'give -ztscacert the CA certificate that signed ZTS\'s certificate (tessera serve prints its path as "CA file")');
    try {
      await d.zts.reach();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      const message = (e as Error).message;
      if (UNTRUSTED.has(code)) {
        throw new Broken(`ZTS's certificate is not trusted (${code})`, `give -ztscacert the CA certificate that signed ZTS's certificate (tessera serve prints its path as "CA file")${flags.ztscacert ? `; ${flags.ztscacert} is not it` : ''}`);
      }
      if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') throw new Broken(`ZTS's certificate is not for ${flags.zts}: ${message}`, 'use the name in ZTS\'s certificate for -zts, or give it with -ztsservername');
      throw new Broken(`cannot reach ZTS at ${d.zts.baseUrl}: ${code && !message.includes(code) ? `${code} ` : ''}${message}`, 'check -zts and -ztsport, that ZTS runs, and that this network (security groups, network policy) lets the workload reach it');
    }
  }

  async function verdict(identity: AwsIdentity, platform: Platform, workload: Workload, config: SiaConfig): Promise<void> {
    const agent: Agent = {
      config, workload, aws: identity, zts: d.zts, provider: `${flags.providerprefix}.${workload.region}`,
      dnsDomains: flags.dnsdomains.split(',').filter(Boolean), siaDir: flags.siadir, env, etcDir: join(d.fsRoot, 'etc'), log: d.log, now: d.now,
    };
    const svc = config.services.find((s) => s.name === config.service) ?? config.services[0];
    const { body } = await link(() => registerRequest(agent, svc), 'siad could not build the register request: see the error');
    try {
      await d.zts.checkRegister(body);
    } catch (e) {
      if (e instanceof ZtsRefusal) throw new Broken(`ZTS refused (${e.status}): ${e.message}`, `a domain admin fixes this in Tessera (zms-cli or the UI); ${platform} workloads register with provider ${agent.provider}`);
      throw new Broken((e as Error).message, 'ZTS did not answer the check: try again, and look at the server\'s log');
    }
  }
}

/** Runs `fn`; any failure becomes a broken link with this fix. */
async function link<T>(fn: () => Promise<T>, fix: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Broken) throw e;
    throw new Broken((e as Error).message, fix);
  }
}
