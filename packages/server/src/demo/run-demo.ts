/**
 * The workflow of the Athenz EKS and Fargate guides, end to end on a laptop:
 * tessera serve and aws-sim, zms-cli for the domain side, the AWS SDK for the
 * IAM roles, then siad in a simulated EKS pod (attested by its projected
 * service-account token, no AWS call from ZTS) and Fargate task (the STS
 * fallback). Every step goes through the real interfaces and is printed as it runs.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { startAwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { parseCertificate, verifyIssuedBy } from '@tessera/core/x509/certificate';
import { keyMatchesCertificate } from '@tessera/core/x509/keys';
import { serverConfig } from '../server-config.ts';
import { startServer, type RunningServer } from '../server.ts';
import { busyPortMessage } from '../commands/serve.ts';
import { SIM_SERVER_ACCOUNT, SIM_SERVER_USER } from '../commands/aws-sim.ts';
import { runNode, startNode } from './run-process.ts';
import { freePort } from '@tessera/core/free-port';
import { httpsJson } from '@tessera/core/https-client';

export interface DemoOptions {
  dataDir: string;
  once?: boolean;
  zmsPort?: string;
  ztsPort?: string;
}

const DOMAIN = 'sports';
const SERVICE = 'api';
const ACCOUNT = '123456789012';
const PROVIDER_PREFIX = 'athenz.aws';
const REGION = 'us-west-2';
const DNS_SUFFIX = 'aws.athenz.cloud';
const ROOT = resolve(new URL('../../../..', import.meta.url).pathname);
const ZMS_CLI = join(ROOT, 'packages/cli/bin/zms-cli.js');
const SIAD = join(ROOT, 'packages/sia/bin/siad.js');

/** The workload role trusts the two AWS services that run tasks and pods. */
const WORKLOAD_TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: ['ecs-tasks.amazonaws.com', 'pods.eks.amazonaws.com'] }, Action: ['sts:AssumeRole', 'sts:TagSession'] },
  ],
});

class StepFailed extends Error {}

export async function runDemo(o: DemoOptions, print: (line: string) => void): Promise<number> {
  const dataDir = resolve(o.dataDir);
  // Rerunning is safe: every run starts from a clean data dir.
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const adminPassword = process.env.TESSERA_ADMIN_PASSWORD || randomBytes(12).toString('base64url');

  print(`== Starting aws-sim (a local AWS for development) and tessera serve (data in ${dataDir}, embedded SQLite)`);
  const sim = await startAwsSim({ filesDir: join(dataDir, 'aws-sim'), log: () => {} });
  const docCert = join(dataDir, 'aws-document-cert.pem');
  writeFileSync(docCert, sim.identityDocumentCertPem);
  // ZTS's own AWS identity (the one `aws-sim --serve-env-out` gives `tessera serve`), read by the SDK's default
  // chain in this process (siad runs with its own environment): it reads which EKS clusters the domain's account
  // trusts through a reader role there.
  const ztsIdentity = sim.createAccessKey(SIM_SERVER_ACCOUNT, { userName: SIM_SERVER_USER });
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: ztsIdentity.accessKeyId, AWS_SECRET_ACCESS_KEY: ztsIdentity.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  let server: RunningServer;
  const config = serverConfig(
    {
      dataDir: join(dataDir, 'server'), zmsPort: o.zmsPort, ztsPort: o.ztsPort, logLevel: 'warn', awsStsEndpoint: sim.url, awsDocumentCert: docCert, awsRegion: REGION,
      awsIamEndpoint: sim.url, awsOidcEndpoint: `${sim.url}/oidc`,
    },
    { ...process.env, TESSERA_ADMIN_PASSWORD: adminPassword },
  );
  try {
    server = await startServer(config);
  } catch (e) {
    await sim.close();
    const err = e as NodeJS.ErrnoException & { port?: number };
    throw err.code === 'EADDRINUSE' ? new Error(busyPortMessage(config, err.port, 'demo')) : e;
  }
  print(`   ZMS ${server.zmsUrl}\n   ZTS ${server.ztsUrl}\n   aws-sim ${sim.url}`);

  let failed = false;
  let step = 0;
  const run = async (title: string, body: () => Promise<void>) => {
    if (failed) return;
    print(`\n[${++step}] ${title}`);
    try {
      await body();
    } catch (e) {
      failed = true;
      print(`    FAILED: ${(e as Error).message}`);
    }
  };

  const home = join(dataDir, 'home');
  mkdirSync(home, { recursive: true });
  const zmsCli = async (args: string[], expect?: RegExp) => {
    print(`    $ zms-cli ${args.join(' ')}`);
    const r = await runNode(ZMS_CLI, args, {
      PATH: process.env.PATH ?? '', HOME: home, USER: 'admin', ZMS: server.zmsUrl, ZMS_CA: server.caCertPath, TESSERA_PASSWORD: adminPassword,
    });
    for (const line of (r.stdout + r.stderr).trimEnd().split('\n')) print(`      ${line}`);
    if (r.status !== 0) throw new StepFailed(`zms-cli exited with ${r.status}`);
    if (expect && !expect.test(r.stdout)) throw new StepFailed(`expected output matching ${expect}`);
  };

  await run(`Create domain ${DOMAIN} as the system administrator`, () => zmsCli(['add-domain', DOMAIN]));
  await run(`Register the domain's AWS account`, () => zmsCli(['-d', DOMAIN, 'set-aws-account', ACCOUNT]));
  await run(`Add service ${SERVICE} (in the UI: Services tab → Add a Service)`, () => zmsCli(['-d', DOMAIN, 'add-service', SERVICE]));
  await run('Before Allow, the AWS provider may not launch it', () =>
    zmsCli(['-d', DOMAIN, 'check-access', 'launch', `${DOMAIN}:service.${SERVICE}`, `${PROVIDER_PREFIX}.${REGION}`], /denied/));
  await run('Allow the "AWS EC2/EKS/Fargate" provider (in the UI: Providers column → Allow)', () =>
    zmsCli(['-d', DOMAIN, 'set-domain-template', 'aws_instance_launch_provider', `service=${SERVICE}`]));
  await run('Now it may', () => zmsCli(['-d', DOMAIN, 'check-access', 'launch', `${DOMAIN}:service.${SERVICE}`, `${PROVIDER_PREFIX}.${REGION}`], /granted/));
  await run(`A role whose members get role certificates`, () => zmsCli(['-d', DOMAIN, 'add-regular-role', 'readers', `${DOMAIN}.${SERVICE}`]));

  const workloadRole = `${DOMAIN}.${SERVICE}-service`;
  const athenzRoleArn = `arn:aws:iam::${ACCOUNT}:role/${DOMAIN}.${SERVICE}`;
  await run(`In AWS IAM: the workload role ${workloadRole} and the empty role ${DOMAIN}.${SERVICE} that trusts it`, async () => {
    const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.createAccessKey(ACCOUNT, { userName: 'admin' }) });
    try {
      await iam.send(new CreateRoleCommand({ RoleName: workloadRole, AssumeRolePolicyDocument: WORKLOAD_TRUST }));
      print(`    created arn:aws:iam::${ACCOUNT}:role/${workloadRole} (trusted by ecs-tasks and pods.eks)`);
      const trust = awsTrustPolicy(`arn:aws:iam::${ACCOUNT}:role/${workloadRole}`);
      await iam.send(new CreateRoleCommand({ RoleName: `${DOMAIN}.${SERVICE}`, AssumeRolePolicyDocument: trust }));
      print(`    created ${athenzRoleArn} with the trust relationship:`);
      for (const line of JSON.stringify(JSON.parse(trust), null, 2).split('\n')) print(`      ${line}`);
      await iam.send(new CreateRoleCommand({ RoleName: 'oidc-issuers-reader', AssumeRolePolicyDocument: awsTrustPolicy(ztsIdentity.arn) }));
      print(`    created arn:aws:iam::${ACCOUNT}:role/oidc-issuers-reader, trusting ZTS (${ztsIdentity.arn}): ZTS lists the account's EKS cluster issuers with it`);
    } finally {
      iam.destroy();
    }
  });

  const siadArgs = (dir: string) => ['-zts', 'localhost', '-ztsport', new URL(server.ztsUrl).port, '-ztscacert', server.caCertPath,
    '-dnsdomains', DNS_SUFFIX, '-providerprefix', PROVIDER_PREFIX, '-siadir', dir];
  const siad = async (label: string, dir: string, env: Record<string, string>, cmd: string, extra: string[] = []) => {
    const args = ['-cmd', cmd, ...siadArgs(dir), ...extra];
    print(`    [${label}] $ siad ${args.join(' ')}`);
    const r = await runNode(SIAD, args, { PATH: process.env.PATH ?? '', ...env });
    for (const line of (r.stdout + r.stderr).trimEnd().split('\n').filter(Boolean).slice(-6)) print(`      ${line}`);
    if (r.status !== 0) throw new StepFailed(`siad -cmd ${cmd} exited with ${r.status}`);
  };

  const describe = (label: string, dir: string) => {
    const certPath = join(dir, 'certs', `${DOMAIN}.${SERVICE}.cert.pem`);
    const keyPath = join(dir, 'keys', `${DOMAIN}.${SERVICE}.key.pem`);
    const pem = readFileSync(certPath, 'utf8');
    const c = parseCertificate(pem);
    const days = (c.notAfter.getTime() - c.notBefore.getTime()) / 86_400_000;
    print(`    [${label}] ${certPath}`);
    print(`      subject CN=${c.commonName}${c.organizationalUnit ? `, OU=${c.organizationalUnit}` : ''}, serial ${c.serialHex}`);
    print(`      SANs ${[...c.dnsNames, ...c.uris].join(', ')}`);
    print(`      valid ${c.notBefore.toISOString()} → ${c.notAfter.toISOString()} (${days.toFixed(1)} days)`);
    print(`      key ${keyPath}, CA ${join(dir, 'certs', 'ca.cert.pem')}`);
    if (Math.round(days) !== 7) throw new StepFailed(`expected a 7-day certificate, got ${days.toFixed(1)} days`);
    if (!keyMatchesCertificate(readFileSync(keyPath, 'utf8'), pem)) throw new StepFailed('the key does not match the certificate');
    return c.serialHex;
  };

  const checkChain = async (label: string, file: string) => {
    const ok = await verifyIssuedBy(readFileSync(file, 'utf8'), readFileSync(server.caCertPath, 'utf8'));
    print(`    [${label}] ${file}: ${ok ? 'verified with the CA bundle' : 'DOES NOT VERIFY'}`);
    if (!ok) throw new StepFailed(`${file} does not verify with the CA`);
  };

  const workload = async (label: string, dir: string, env: Record<string, string>) => {
    mkdirSync(dir, { recursive: true });
    const config = join(dir, 'sia_config');
    writeFileSync(config, JSON.stringify({ service: SERVICE, accounts: [{ domain: DOMAIN, service: SERVICE, account: ACCOUNT, roles: { [`${DOMAIN}:role.readers`]: {} } }] }, null, 2));
    let serial = '';
    await run(`[${label}] siad -cmd diagnose: every link from the platform to ZTS's verdict, nothing issued`, async () => {
      await siad(label, dir, env, 'diagnose');
    });
    await run(`[${label}] siad -cmd post: register, and get a service certificate`, async () => {
      await siad(label, dir, env, 'post');
      serial = describe(label, dir);
      await checkChain(label, join(dir, 'certs', `${DOMAIN}.${SERVICE}.cert.pem`));
    });
    await run(`[${label}] siad -cmd rotate: refresh it over mTLS`, async () => {
      await siad(label, dir, env, 'rotate');
      const next = describe(label, dir);
      if (next === serial) throw new StepFailed('rotate did not give a new certificate');
    });
    await run(`[${label}] siad -cmd rolecert: a role certificate for ${DOMAIN}:role.readers`, async () => {
      await siad(label, dir, env, 'rolecert', ['-config', config]);
      const rolePath = join(dir, 'certs', `${DOMAIN}:role.readers.cert.pem`);
      const c = parseCertificate(readFileSync(rolePath, 'utf8'));
      print(`    [${label}] ${rolePath}: CN=${c.commonName}, ${c.uris.join(', ')}`);
      await checkChain(label, rolePath);
    });
  };

  let fargateEnv: Record<string, string> = {};
  let podEnv: Record<string, string> = {};
  await run(`Launch an EKS pod (EKS Pod Identity, role ${workloadRole}) whose pod spec projects a service-account token for ZTS`, async () => {
    const pod = await sim.launchEksPod({
      mode: 'pod-identity', role: workloadRole, account: ACCOUNT, region: REGION, cluster: 'demo', namespace: 'default', podName: 'api-7d9f8c6b5-x2x4q',
      serviceAccount: `${DOMAIN}.${SERVICE}`, tokenAudience: server.ztsUrl,
    });
    print(`    pod ${pod.namespace}/${pod.podName} in cluster ${pod.cluster.name ?? 'demo'}, service account ${pod.serviceAccount}`);
    print(`    cluster issuer ${pod.cluster.issuer}, registered as an IAM OIDC provider of ${ACCOUNT}`);
    print(`    projected token for audience ${server.ztsUrl}: TESSERA_SA_TOKEN_FILE=${pod.saTokenFile}`);
    podEnv = pod.env;
  });
  if (!failed) await workload('eks', join(dataDir, 'eks', 'sia'), podEnv);
  const awsCalls = async () => {
    const res = await httpsJson<string>({ url: server.ztsUrl.replace(/\/zts\/v1$/, '/metrics'), ca: readFileSync(server.caCertPath, 'utf8') });
    return res.text.split('\n').filter((l) => l.startsWith('tessera_zts_aws_calls_total'));
  };
  await run('ZTS checked the pod\'s token against the cluster\'s cached keys: the AWS calls it made so far, by reason (GET /metrics)', async () => {
    const lines = await awsCalls();
    for (const line of lines) print(`    ${line}`);
    if (lines.some((l) => l.includes('sts-attestation'))) throw new StepFailed('ZTS called STS for the pod');
    print('    no sts:GetCallerIdentity: one AssumeRole and one IAM list per account, one discovery and JWKS fetch per cluster, then nothing per certificate');
  });

  await run(`Launch a Fargate task with task role ${workloadRole} (no token offered: siad falls back to STS credentials)`, async () => {
    const task = await sim.launchFargateTask({ taskRole: workloadRole, account: ACCOUNT, region: REGION, cluster: 'demo' });
    print(`    task ${task.taskArn}`);
    fargateEnv = task.env;
  });
  if (!failed) await workload('fargate', join(dataDir, 'fargate', 'sia'), fargateEnv);

  await run(`[fargate] siad as the sidecar daemon (no -cmd): register, keep the certificate fresh, report health, stop on SIGTERM`, async () => {
    const task = await sim.launchFargateTask({ taskRole: workloadRole, account: ACCOUNT, region: REGION, cluster: 'demo' });
    const dir = join(dataDir, 'daemon', 'sia');
    const healthPort = await freePort();
    print(`    [daemon] task ${task.taskArn}`);
    print(`    [daemon] $ ATHENZ_SIA_HTTP_PORT=${healthPort} siad ${siadArgs(dir).join(' ')}`);
    const daemon = startNode(SIAD, siadArgs(dir), { PATH: process.env.PATH ?? '', ...task.env, ATHENZ_SIA_HTTP_PORT: String(healthPort) });
    let healthy = false;
    let exit: number | null = null;
    try {
      await daemon.waitFor(/certificate valid until .*next refresh in/);
      for (const line of daemon.output().trimEnd().split('\n').slice(-4)) print(`      ${line}`);
      describe('daemon', dir);
      const health = await fetch(`http://127.0.0.1:${healthPort}/status`);
      print(`    [daemon] GET http://127.0.0.1:${healthPort}/status → ${health.status} ${(await health.text()).trim()}`);
      healthy = health.status === 200;
    } finally {
      exit = await daemon.stop();
      print(`    [daemon] SIGTERM → exit ${exit}`);
    }
    if (!healthy) throw new StepFailed('the health endpoint does not report a valid certificate');
    if (exit !== 0) throw new StepFailed(`siad exited with ${exit} on SIGTERM, not 0`);
  });

  if (!failed) {
    print('\nAWS calls ZTS made in all (the Fargate task used the STS fallback: one GetCallerIdentity per certificate):');
    for (const line of await awsCalls()) print(`    ${line}`);
  }
  print(failed ? '\nThe demo stopped at a failed step.' : '\nAll steps succeeded: both workloads hold 7-day service certificates and a role certificate, and the daemon keeps one fresh.');
  const stop = async () => {
    await server.close();
    await sim.close();
  };
  if (o.once) {
    await stop();
    return failed ? 1 : 0;
  }
  print(`\nTessera is running. Web UI ${new URL('/', server.zmsUrl).href}   ZMS ${server.zmsUrl}   ZTS ${server.ztsUrl}\n  CA certificate: ${server.caCertPath}\n  login: admin / ${adminPassword}\nPress Ctrl-C to stop.`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await stop();
  return failed ? 1 : 0;
}
