/**
 * `tessera aws-sim` as a separate process: it prints the environment a client
 * needs, keeps its state file across restarts, can be driven through the admin
 * API, and exits cleanly on SIGTERM.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromContainerMetadata } from '@aws-sdk/credential-providers';
import { serviceTrustPolicy } from '../src/policy-templates.ts';
import { createRole, iamClient, withAwsEnv } from './helpers.ts';

const runner = fileURLToPath(new URL('./cli-runner.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'aws-sim-cli-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Running {
  child: ChildProcess;
  env: Record<string, string>;
}

async function start(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', runner, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('identity document certificate')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`aws-sim exited early (${code}): ${err}`)));
  });
  const env: Record<string, string> = {};
  for (const m of out.matchAll(/^export (\w+)='([^']*)'$/gm)) env[m[1]] = m[2];
  assert.match(out, /development and tests only/);
  return { child, env };
}

async function stop(r: Running): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => r.child.on('exit', (code) => resolve(code)));
  r.child.kill('SIGTERM');
  return exited;
}

test('prints a working environment, serves the admin API, keeps state, exits 0 on SIGTERM', async () => {
  const state = join(dir, 'aws-sim.json');
  const certOut = join(dir, 'identity.pem');
  const first = await start(['--port', '0', '--state', state, '--account', '123456789012', '--cert-out', certOut]);
  const { env } = first;
  assert.match(env.AWS_ENDPOINT_URL_STS, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(env.AWS_ACCESS_KEY_ID, /^AKIA/);
  const root = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
  const sts = new STSClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL_STS, credentials: root });
  assert.equal((await sts.send(new GetCallerIdentityCommand({}))).Arn, 'arn:aws:iam::123456789012:root');
  const sim = { url: env.AWS_SIM_URL, region: env.AWS_REGION };
  await createRole(iamClient(sim, root), 'sports.api-service', serviceTrustPolicy('ecs-tasks.amazonaws.com'));

  const unauthorized = await fetch(`${env.AWS_SIM_URL}/_sim/fargate-tasks`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.equal(unauthorized.status, 401);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${env.AWS_SIM_ADMIN_TOKEN}` };
  const bad = await fetch(`${env.AWS_SIM_URL}/_sim/fargate-tasks`, { method: 'POST', headers, body: JSON.stringify({ taskRole: 'nope', account: '123456789012' }) });
  assert.equal(bad.status, 404);
  assert.equal(((await bad.json()) as { error: string }).error, 'NoSuchEntity');
  const garbage = await fetch(`${env.AWS_SIM_URL}/_sim/fargate-tasks`, { method: 'POST', headers, body: '{not json' });
  assert.equal(garbage.status, 400);
  const launched = await fetch(`${env.AWS_SIM_URL}/_sim/fargate-tasks`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ taskRole: 'arn:aws:iam::123456789012:role/sports.api-service' }),
  });
  assert.equal(launched.status, 200);
  const task = (await launched.json()) as { taskId: string; env: Record<string, string> };
  const creds = await withAwsEnv(task.env, () => fromContainerMetadata()());
  const who = await new STSClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL_STS, credentials: creds }).send(
    new GetCallerIdentityCommand({}),
  );
  assert.equal(who.Arn, `arn:aws:sts::123456789012:assumed-role/sports.api-service/${task.taskId}`);
  const cert = await (await fetch(`${env.AWS_SIM_URL}/_sim/identity-document-cert`)).text();
  assert.equal(cert, readFileSync(certOut, 'utf8'));
  assert.equal(await stop(first), 0);
  assert.equal(statSync(state).mode & 0o777, 0o600, 'the state file holds secrets');

  // Same state file: same root key, same role, same certificate, same task credentials endpoint.
  const second = await start(['--port', '0', '--state', state]);
  try {
    assert.equal(second.env.AWS_ACCESS_KEY_ID, env.AWS_ACCESS_KEY_ID);
    const iam2 = iamClient({ url: second.env.AWS_SIM_URL, region: 'us-west-2' }, root);
    assert.equal((await iam2.send(new GetRoleCommand({ RoleName: 'sports.api-service' }))).Role?.RoleName, 'sports.api-service');
    assert.equal(await (await fetch(`${second.env.AWS_SIM_URL}/_sim/identity-document-cert`)).text(), cert);
  } finally {
    assert.equal(await stop(second), 0);
  }
});

test('refuses bad flags', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', runner, '--port', 'x'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.notEqual(code, 0);
});
