/**
 * `tessera aws-sim` subcommands as a user runs them in a second shell, with
 * the environment `--env-out` wrote: create-role, launch-task, launch-pod
 * (Pod Identity), describe-cluster and update-assume-role-policy (repairing a
 * wrong trust policy), their refusals, and the workload
 * environment file that leaves the admin's keys behind.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { awsTrustPolicy, podIdentityTrustPolicy, serviceTrustPolicy } from '@tessera/aws-sim/policy-templates';

const bin = fileURLToPath(new URL('../bin/tessera.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'aws-sim-commands-'));
const envFile = join(dir, 'aws-sim.env');
const serveEnvFile = join(dir, 'serve-aws.env');
let sim: ChildProcess;

before(async () => {
  sim = spawn(process.execPath, [bin, 'aws-sim', '--port', '0', '--env-out', envFile, '--serve-env-out', serveEnvFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    sim.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('identity document certificate')) resolve();
    });
    sim.on('exit', (code) => reject(new Error(`aws-sim exited (${code})`)));
  });
  assert.match(out, new RegExp(`Environment written to ${envFile}`));
});

after(() => {
  sim?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `script` in bash after sourcing the env file, as a user would. */
function shell(script: string, source = true): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', `${source ? `. ${envFile}\n` : ''}${script}`], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir } }, (e, out, err) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }));
  });
}

const tessera = `node ${bin}`;
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

test('the env file: mode 0600, endpoints, root key and the admin API', () => {
  assert.equal(statSync(envFile).mode & 0o777, 0o600);
  const text = readFileSync(envFile, 'utf8');
  for (const v of ['AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_IAM', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SIM_URL', 'AWS_SIM_ADMIN_TOKEN']) {
    assert.match(text, new RegExp(`^export ${v}='[^']+'$`, 'm'));
  }
});

test('the serve env file: mode 0600, aws-sim\'s endpoints for serve and ZTS\'s own identity, which STS knows', async () => {
  assert.equal(statSync(serveEnvFile).mode & 0o777, 0o600);
  const text = readFileSync(serveEnvFile, 'utf8');
  for (const v of ['TESSERA_AWS_STS_ENDPOINT', 'TESSERA_AWS_IAM_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
    assert.match(text, new RegExp(`^export ${v}='http://127\\.0\\.0\\.1:\\d+'$|^export ${v}='[A-Za-z0-9/+]+'$`, 'm'), v);
  }
  assert.match(text, /^export TESSERA_AWS_OIDC_ENDPOINT='http:\/\/127\.0\.0\.1:\d+\/oidc'$/m);
  assert.ok(!text.includes('AWS_SIM_ADMIN_TOKEN'), 'the server gets no admin token');
  const who = await shell(`. ${serveEnvFile} && cd ${repoRoot} && node --input-type=module -e "
    import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
    const s = new STSClient({ endpoint: process.env.TESSERA_AWS_STS_ENDPOINT, region: 'us-east-1' });
    console.log((await s.send(new GetCallerIdentityCommand({}))).Arn);"`, false);
  assert.equal(who.out.trim(), 'arn:aws:iam::999999999999:user/zts', who.err);
});

test('create-role takes the AWS CLI\'s flags; launch-task prints an env file that acts as the task', async () => {
  writeFileSync(join(dir, 'task-trust.json'), serviceTrustPolicy('ecs-tasks.amazonaws.com'));
  const created = await shell(`${tessera} aws-sim create-role --role-name sports.api-service --assume-role-policy-document file://task-trust.json`);
  assert.equal(created.code, 0, created.err);
  assert.equal(created.out, 'created role arn:aws:iam::123456789012:role/sports.api-service\n');
  const again = await shell(`${tessera} aws-sim create-role --role-name sports.api-service --assume-role-policy-document file://task-trust.json`);
  assert.equal(again.code, 1);
  assert.match(again.err, /CreateRole sports\.api-service: EntityAlreadyExists\w*: Role with name sports\.api-service already exists/);
  const bad = await shell(`${tessera} aws-sim create-role --role-name x --assume-role-policy-document '{nope'`);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /--assume-role-policy-document is not JSON: give file:\/\/path or the JSON itself/);

  const launched = await shell(`${tessera} aws-sim launch-task --task-role sports.api-service --cluster sports > task.env`);
  assert.equal(launched.code, 0, launched.err);
  const taskEnv = readFileSync(join(dir, 'task.env'), 'utf8');
  assert.match(taskEnv, /^# Fargate task arn:aws:ecs:us-west-2:123456789012:task\/sports\/[0-9a-f]{32}$/m);
  assert.match(taskEnv, /^unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN/m);
  assert.match(taskEnv, /^export ECS_CONTAINER_METADATA_URI_V4='http:\/\/127\.0\.0\.1:\d+\/v4\//m);
  // Sourced after aws-sim.env, the SDK's default chain gets the task role, not the root key.
  const who = await shell(`. ./task.env && cd ${repoRoot} && node --input-type=module -e "
    import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
    const s = new STSClient({}); console.log((await s.send(new GetCallerIdentityCommand({}))).Arn);"`);
  assert.equal(who.code, 0, who.err);
  assert.match(who.out, /^arn:aws:sts::123456789012:assumed-role\/sports\.api-service\/[0-9a-f]{32}\n$/);

  const unknown = await shell(`${tessera} aws-sim launch-task --task-role nobody`);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /NoSuchEntity/);
});

test('launch-pod (Pod Identity) needs the pods.eks trust; describe-cluster gives the OIDC provider', async () => {
  const refused = await shell(`${tessera} aws-sim launch-pod --role sports.api-service --namespace sports`);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /AccessDenied: pods\.eks\.amazonaws\.com is not authorized to perform: sts:AssumeRole/);
  writeFileSync(join(dir, 'pod-trust.json'), podIdentityTrustPolicy());
  assert.equal((await shell(`${tessera} aws-sim create-role --role-name sports.pod-service --assume-role-policy-document file://pod-trust.json`)).code, 0);
  const pod = await shell(`${tessera} aws-sim launch-pod --role sports.pod-service --namespace sports --cluster prod`);
  assert.equal(pod.code, 0, pod.err);
  assert.match(pod.out, /^# EKS pod sports\/\S+ \(pod-identity\)$/m);
  assert.match(pod.out, /^export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE='[^']+'$/m);
  assert.match(pod.out, /^export ATHENZ_SIA_POD_NAMESPACE='sports'$/m);
  const token = /AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE='([^']+)'/.exec(pod.out)![1];
  assert.ok(existsSync(token), 'the token file is there');

  const cluster = await shell(`${tessera} aws-sim describe-cluster --cluster prod`);
  assert.equal(cluster.code, 0, cluster.err);
  assert.match(JSON.parse(cluster.out).oidcProviderArn, /^arn:aws:iam::123456789012:oidc-provider\/oidc\.eks\.us-west-2\.amazonaws\.com\/id\/\w+$/);
});

test('without the env file sourced, the subcommands say what to do', async () => {
  const r = await shell(`${tessera} aws-sim launch-task --task-role sports.api-service`, false);
  assert.equal(r.code, 1);
  assert.match(r.err, /AWS_SIM_URL and AWS_SIM_ADMIN_TOKEN are not set: source the file `tessera aws-sim --env-out` wrote first, e\.g\. `\. \.\/aws-sim\.env`/);
});

test('a wrong trust policy is repaired with update-assume-role-policy (the AWS CLI\'s flags): AssumeRole is refused, then allowed', async () => {
  writeFileSync(join(dir, 'fix-task-trust.json'), serviceTrustPolicy('ecs-tasks.amazonaws.com'));
  // Trusts another (existing) workload role: the typo a user makes.
  writeFileSync(join(dir, 'wrong-trust.json'), awsTrustPolicy('arn:aws:iam::123456789012:role/sports.fixx-service'));
  writeFileSync(join(dir, 'right-trust.json'), awsTrustPolicy('arn:aws:iam::123456789012:role/sports.fix-service'));
  for (const [role, file] of [['sports.fix-service', 'fix-task-trust.json'], ['sports.fixx-service', 'fix-task-trust.json'], ['sports.fix', 'wrong-trust.json']]) {
    const r = await shell(`${tessera} aws-sim create-role --role-name ${role} --assume-role-policy-document file://${file}`);
    assert.equal(r.code, 0, r.err);
  }
  assert.equal((await shell(`${tessera} aws-sim launch-task --task-role sports.fix-service --cluster sports > fix.env`)).code, 0);
  const assume = () => shell(`. ./fix.env && cd ${repoRoot} && node --input-type=module -e "
    import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
    const s = new STSClient({});
    try { const o = await s.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::123456789012:role/sports.fix', RoleSessionName: 'fix-session' })); console.log(o.AssumedRoleUser.Arn); }
    catch (e) { console.log(e.name); }"`);
  assert.equal((await assume()).out.trim(), 'AccessDenied', 'the wrong trust policy refuses the workload role');

  const again = await shell(`${tessera} aws-sim create-role --role-name sports.fix --assume-role-policy-document file://right-trust.json`);
  assert.equal(again.code, 1);
  assert.match(again.err, /already exists\.?; to change its trust policy: tessera aws-sim update-assume-role-policy --role-name sports\.fix --policy-document/);

  const fixed = await shell(`${tessera} aws-sim update-assume-role-policy --role-name sports.fix --policy-document file://right-trust.json`);
  assert.equal(fixed.code, 0, fixed.err);
  assert.equal(fixed.out, 'updated the trust policy of role sports.fix\n');
  assert.match((await assume()).out.trim(), /^arn:aws:sts::123456789012:assumed-role\/sports\.fix\/fix-session$/);

  const missing = await shell(`${tessera} aws-sim update-assume-role-policy --role-name sports.nobody --policy-document file://right-trust.json`);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /UpdateAssumeRolePolicy sports\.nobody: NoSuchEntity\w*: .*; create it first: tessera aws-sim create-role --role-name sports\.nobody/);
  const bad = await shell(`${tessera} aws-sim update-assume-role-policy --role-name sports.fix --policy-document '{nope'`);
  assert.match(bad.err, /--policy-document is not JSON/);
});
