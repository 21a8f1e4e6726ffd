/**
 * Fargate: the Athenz flow with the real SDK. The task's credentials come from
 * the container credentials endpoint; a task role the `sports.api` role trusts
 * can assume it, an untrusted one cannot.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromContainerMetadata, fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { awsTrustPolicy, serviceTrustPolicy } from '../src/policy-templates.ts';
import { ACCOUNT, createRole, iamClient, rejectsWith, startTestSim, stsClient, withAwsEnv, type TestSim } from './helpers.ts';

let t: TestSim;
const taskRoleArn = `arn:aws:iam::${ACCOUNT}:role/sports.api-service`;
const athenzRoleArn = `arn:aws:iam::${ACCOUNT}:role/sports.api`;

before(async () => {
  t = await startTestSim();
  const iam = iamClient(t.sim, t.sim.rootCredentials(ACCOUNT));
  await createRole(iam, 'sports.api-service', serviceTrustPolicy('ecs-tasks.amazonaws.com'));
  await createRole(iam, 'weather.api-service', serviceTrustPolicy('ecs-tasks.amazonaws.com'));
  await createRole(iam, 'sports.api', awsTrustPolicy(taskRoleArn));
  await createRole(iam, 'ec2.only', serviceTrustPolicy('ec2.amazonaws.com'));
});
after(() => t.sim.close());

test('task metadata v4 gives the TaskARN siad parses', async () => {
  const task = await t.sim.launchFargateTask({ taskRole: taskRoleArn, cluster: 'sports-cluster', region: 'us-east-2' });
  assert.match(task.taskId, /^[0-9a-f]{32}$/);
  assert.equal(task.taskArn, `arn:aws:ecs:us-east-2:${ACCOUNT}:task/sports-cluster/${task.taskId}`);
  const env = task.env;
  assert.equal(env.AWS_REGION, 'us-east-2');
  assert.equal(env.AWS_ENDPOINT_URL_STS, t.sim.url);
  assert.match(env.AWS_CONTAINER_CREDENTIALS_FULL_URI, /^http:\/\/127\.0\.0\.1:\d+\/v2\/credentials\/[0-9a-f-]{36}$/);
  const doc = (await (await fetch(`${env.ECS_CONTAINER_METADATA_URI_V4}/task`)).json()) as Record<string, unknown>;
  assert.equal(doc.TaskARN, task.taskArn);
  assert.equal(doc.Cluster, `arn:aws:ecs:us-east-2:${ACCOUNT}:cluster/sports-cluster`);
  assert.equal(doc.LaunchType, 'FARGATE');
  const container = (await (await fetch(env.ECS_CONTAINER_METADATA_URI_V4)).json()) as Record<string, Record<string, string>>;
  assert.equal(container.Labels['com.amazonaws.ecs.task-arn'], task.taskArn);
  // siad's Fargate path reads RoleArn from the credentials document.
  const creds = (await (await fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI)).json()) as Record<string, string>;
  assert.equal(creds.RoleArn, taskRoleArn);
  assert.equal((await fetch(`${t.sim.url}/v4/nope/task`)).status, 404);
});

test('a trusted task role assumes sports.api; GetCallerIdentity shows the assumed role', async () => {
  const task = await t.sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT });
  const taskCreds = await withAwsEnv(task.env, () => fromContainerMetadata()());
  assert.match(taskCreds.accessKeyId, /^ASIA/);
  const self = await stsClient(t.sim, taskCreds).send(new GetCallerIdentityCommand({}));
  assert.equal(self.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/sports.api-service/${task.taskId}`);
  // As siad does: AssumeRole into <domain>.<service> with the role name as session name.
  const athenz = fromTemporaryCredentials({
    masterCredentials: taskCreds,
    params: { RoleArn: athenzRoleArn, RoleSessionName: 'sports.api' },
    clientConfig: { region: task.region, endpoint: t.sim.url },
  });
  const who = await stsClient(t.sim, athenz).send(new GetCallerIdentityCommand({}));
  assert.equal(who.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/sports.api/sports.api`);
  assert.equal(who.Account, ACCOUNT);
});

test('the default provider chain finds the task credentials from the task environment', async () => {
  const task = await t.sim.launchFargateTask({ taskRole: taskRoleArn });
  // Region and endpoint come from the environment too, as inside the container.
  const who = await withAwsEnv(task.env, () =>
    new STSClient({ credentials: fromNodeProviderChain() }).send(new GetCallerIdentityCommand({})),
  );
  assert.equal(who.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/sports.api-service/${task.taskId}`);
});

test('a task role that sports.api does not trust gets AccessDenied', async () => {
  const task = await t.sim.launchFargateTask({ taskRole: 'weather.api-service', account: ACCOUNT });
  const creds = await withAwsEnv(task.env, () => fromContainerMetadata()());
  await rejectsWith(
    stsClient(t.sim, creds).send(new AssumeRoleCommand({ RoleArn: athenzRoleArn, RoleSessionName: 'sports.api' })),
    'AccessDenied',
    /assumed-role\/weather\.api-service\/.* is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role\/sports\.api/,
  );
});

test('a task role must trust ecs-tasks.amazonaws.com and exist', async () => {
  await assert.rejects(t.sim.launchFargateTask({ taskRole: 'ec2.only', account: ACCOUNT }), { code: 'AccessDenied' });
  await assert.rejects(t.sim.launchFargateTask({ taskRole: 'missing.role', account: ACCOUNT }), { code: 'NoSuchEntity' });
  await assert.rejects(t.sim.launchFargateTask({ taskRole: 'sports.api-service' }), { code: 'ValidationError' });
  await assert.rejects(t.sim.launchFargateTask({ taskRole: taskRoleArn, cluster: 'bad cluster' }), { code: 'ValidationError' });
});

test('task credentials are reused, then expire and are replaced', async () => {
  const task = await t.sim.launchFargateTask({ taskRole: taskRoleArn });
  const first = await withAwsEnv(task.env, () => fromContainerMetadata()());
  const again = await withAwsEnv(task.env, () => fromContainerMetadata()());
  assert.equal(again.accessKeyId, first.accessKeyId);
  assert.ok(first.expiration!.getTime() - t.now().getTime() > 5 * 3600_000, 'six-hour task credentials');
  t.advance(6 * 3600_000 + 1000);
  try {
    const fresh = await withAwsEnv(task.env, () => fromContainerMetadata()());
    assert.notEqual(fresh.accessKeyId, first.accessKeyId);
    const sts = stsClient(t.sim, first, { systemClockOffset: 6 * 3600_000 + 1000 });
    await rejectsWith(sts.send(new GetCallerIdentityCommand({})), 'ExpiredToken');
    const ok = await stsClient(t.sim, fresh, { systemClockOffset: 6 * 3600_000 + 1000 }).send(new GetCallerIdentityCommand({}));
    assert.equal(ok.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/sports.api-service/${task.taskId}`);
  } finally {
    t.advance(-(6 * 3600_000 + 1000));
  }
});
