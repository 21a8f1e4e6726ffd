/**
 * `tessera demo`: the workflow of the Athenz EKS/Fargate guides on a fresh
 * data dir and the embedded store, through the real HTTPS API, printing each
 * step. Today it covers the ZMS part (domain, AWS account, service, provider
 * authorization); ZTS, aws-sim and siad steps join as those pieces land.
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { httpsJson } from '@tessera/core/https-client';
import { serverConfig } from '../server-config.ts';
import { startServer } from '../server.ts';

interface DemoFlags {
  dataDir: string;
  once?: boolean;
  zmsPort?: string;
  ztsPort?: string;
}

const DOMAIN = 'sports';
const SERVICE = 'api';
const ACCOUNT = '123456789012';
const PROVIDER = 'athenz.aws.us-west-2';

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the EKS/Fargate workflow on a fresh embedded server, printing each step')
    .option('--data-dir <dir>', 'data dir, recreated on every run', '.tessera/demo')
    .option('--once', 'exit after the steps (status 0 only if all succeeded) instead of serving until Ctrl-C')
    .option('--zms-port <port>', 'ZMS HTTPS port', '4443')
    .option('--zts-port <port>', 'ZTS HTTPS port', '8443')
    .action(async (flags: DemoFlags) => {
      process.exitCode = await runDemo(flags, (line) => process.stdout.write(`${line}\n`));
    });
}

export async function runDemo(flags: DemoFlags, print: (line: string) => void): Promise<number> {
  const dataDir = resolve(flags.dataDir);
  // Rerunning is safe: every run starts from a clean data dir.
  rmSync(dataDir, { recursive: true, force: true });
  const adminPassword = process.env.TESSERA_ADMIN_PASSWORD || randomBytes(12).toString('base64url');
  const config = serverConfig(
    { dataDir, zmsPort: flags.zmsPort, ztsPort: flags.ztsPort, logLevel: 'warn' },
    { ...process.env, TESSERA_ADMIN_PASSWORD: adminPassword },
  );

  print(`== Starting tessera serve (data dir ${dataDir}, embedded SQLite)`);
  const server = await startServer(config);
  const ca = server.tls.caCertPem;
  let token = '';
  const call = async <T>(method: string, path: string, body?: unknown) => {
    const res = await httpsJson<T>({ method, url: `${server.zmsUrl}${path}`, body, ca, headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
    return res.body;
  };
  const granted = async () =>
    (await call<{ granted: boolean }>('GET', `/access/launch?resource=${DOMAIN}:service.${SERVICE}&domain=${DOMAIN}&principal=${PROVIDER}`)).granted;

  const steps: [string, () => Promise<string>][] = [
    ['Log in as the system administrator user.admin', async () => {
      const res = await httpsJson<{ token: string }>({
        url: `${server.zmsUrl}/user/_self_/token`,
        ca,
        headers: { authorization: `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}` },
      });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
      token = res.body.token;
      return 'token received';
    }],
    [`Create domain ${DOMAIN}`, async () => {
      const d = await call<{ name: string; modified: string }>('POST', '/domain', { name: DOMAIN, adminUsers: ['user.admin'], description: 'Demo domain' });
      return `created ${d.name} (modified ${d.modified})`;
    }],
    [`Register its AWS account (zms-cli -d ${DOMAIN} set-aws-account ${ACCOUNT})`, async () => {
      await call('PUT', `/domain/${DOMAIN}/meta/system/account`, { account: ACCOUNT });
      const d = await call<{ account: string }>('GET', `/domain/${DOMAIN}`);
      return `account = ${d.account}`;
    }],
    [`Add service ${SERVICE} (UI: Services tab → Add a Service)`, async () => {
      await call('PUT', `/domain/${DOMAIN}/service/${SERVICE}`, { name: `${DOMAIN}.${SERVICE}`, description: 'Demo API' });
      return `service ${DOMAIN}.${SERVICE} registered`;
    }],
    [`Before Allow: may ${PROVIDER} launch ${DOMAIN}.${SERVICE}?`, async () => {
      if (await granted()) throw new Error('launch was granted before the provider was allowed');
      return 'no (as expected)';
    }],
    [`Allow the AWS EC2/EKS/Fargate provider (set-domain-template aws_instance_launch_provider service=${SERVICE})`, async () => {
      await call('PUT', `/domain/${DOMAIN}/template`, { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: SERVICE }] });
      return 'template applied';
    }],
    [`After Allow: may ${PROVIDER} launch ${DOMAIN}.${SERVICE}?`, async () => {
      if (!(await granted())) throw new Error('launch is still not granted after the template');
      return 'yes: GET /access/launch answers granted';
    }],
  ];

  let failed = false;
  for (const [i, [title, run]] of steps.entries()) {
    print(`\n[${i + 1}/${steps.length}] ${title}`);
    try {
      print(`      ok: ${await run()}`);
    } catch (e) {
      print(`      FAILED: ${(e as Error).message}`);
      failed = true;
      break;
    }
  }
  print(
    failed
      ? '\nThe demo stopped at a failed step.'
      : '\nAll steps succeeded. Not yet in the demo: ZTS certificates, aws-sim IAM roles and siad (see README, "What works today").',
  );

  if (flags.once) {
    await server.close();
    return failed ? 1 : 0;
  }
  print(`\nZMS is running at ${server.zmsUrl}\n  CA certificate: ${server.caCertPath}\n  login: user.admin / ${adminPassword}\nPress Ctrl-C to stop.`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await server.close();
  return failed ? 1 : 0;
}
