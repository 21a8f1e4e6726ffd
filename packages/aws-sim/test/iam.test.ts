/** IAM roles through the real @aws-sdk/client-iam: create, read, update, list, delete, and IAM's refusals. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateRoleCommand,
  CreateUserCommand,
  DeleteRoleCommand,
  GetRoleCommand,
  ListRolesCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { awsTrustPolicy, serviceTrustPolicy } from '../src/policy-templates.ts';
import { ACCOUNT, createRole, iamClient, rejectsWith, startTestSim, type TestSim } from './helpers.ts';

let t: TestSim;
let iam: IAMClient;

before(async () => {
  t = await startTestSim();
  iam = iamClient(t.sim, t.sim.rootCredentials(ACCOUNT));
});
after(() => t.sim.close());

test('CreateRole and GetRole return the role with its URL-encoded trust policy', async () => {
  const policy = serviceTrustPolicy('ecs-tasks.amazonaws.com');
  const created = await iam.send(
    new CreateRoleCommand({ RoleName: 'sports.api-service', AssumeRolePolicyDocument: policy, Description: 'task role' }),
  );
  assert.equal(created.Role?.Arn, `arn:aws:iam::${ACCOUNT}:role/sports.api-service`);
  assert.match(created.Role?.RoleId ?? '', /^AROA[A-Z2-7]{17}$/);
  const got = await iam.send(new GetRoleCommand({ RoleName: 'sports.api-service' }));
  assert.equal(got.Role?.RoleName, 'sports.api-service');
  assert.equal(got.Role?.Path, '/');
  assert.equal(got.Role?.Description, 'task role');
  assert.equal(got.Role?.MaxSessionDuration, 3600);
  assert.ok(got.Role?.CreateDate instanceof Date);
  assert.deepEqual(JSON.parse(decodeURIComponent(got.Role!.AssumeRolePolicyDocument!)), JSON.parse(policy));
});

test('role paths appear in the ARN, and the trusting role must name the path', async () => {
  const arn = await createRole(iam, 'sports.batch-service', serviceTrustPolicy('ecs-tasks.amazonaws.com'), '/workloads/sports/');
  assert.equal(arn, `arn:aws:iam::${ACCOUNT}:role/workloads/sports/sports.batch-service`);
  await createRole(iam, 'sports.batch', awsTrustPolicy(arn));
  await rejectsWith(
    createRole(iam, 'sports.batch2', awsTrustPolicy(`arn:aws:iam::${ACCOUNT}:role/sports.batch-service`)),
    'MalformedPolicyDocumentException',
    /Invalid principal/,
  );
  await rejectsWith(createRole(iam, 'bad.path', serviceTrustPolicy('ec2.amazonaws.com'), 'no-slashes'), 'ValidationError');
});

test('duplicate names (any case) are EntityAlreadyExists; unknown roles are NoSuchEntity', async () => {
  await createRole(iam, 'dup.role', serviceTrustPolicy('ec2.amazonaws.com'));
  await rejectsWith(createRole(iam, 'DUP.role', serviceTrustPolicy('ec2.amazonaws.com')), 'EntityAlreadyExistsException');
  await rejectsWith(iam.send(new GetRoleCommand({ RoleName: 'no.such' })), 'NoSuchEntityException');
  await rejectsWith(iam.send(new DeleteRoleCommand({ RoleName: 'no.such' })), 'NoSuchEntityException');
  await rejectsWith(
    iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'no.such', PolicyDocument: serviceTrustPolicy('ec2.amazonaws.com') })),
    'NoSuchEntityException',
  );
});

test('malformed trust policies are refused with MalformedPolicyDocument', async () => {
  const bad: [string, RegExp][] = [
    ['{"Version": "2012-10-17", "Statement": [', /invalid Json/],
    ['[]', /invalid Json/],
    [JSON.stringify({ Version: '2012-10-17' }), /Statement/],
    [JSON.stringify({ Version: '2019-01-01', Statement: [] }), /version/],
    [JSON.stringify({ Statement: { Effect: 'Permit', Principal: '*', Action: 'sts:AssumeRole' } }), /Invalid effect/],
    [JSON.stringify({ Statement: { Effect: 'Allow', Action: 'sts:AssumeRole' } }), /Principal/],
    [JSON.stringify({ Statement: { Effect: 'Allow', Principal: '*' } }), /Action/],
    [JSON.stringify({ Statement: { Effect: 'Allow', Principal: '*', Action: 's3:GetObject' } }), /STS AssumeRole actions/],
    [JSON.stringify({ Statement: { Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole', Resource: '*' } }), /prohibited field Resource/],
    [JSON.stringify({ Statement: { Effect: 'Allow', Principal: { AWS: 'not-an-arn' }, Action: 'sts:AssumeRole' } }), /Invalid principal/],
    [JSON.stringify({ Statement: { Effect: 'Allow', Principal: { Service: 'ecs tasks' }, Action: 'sts:AssumeRole' } }), /Invalid principal/],
    [
      JSON.stringify({
        Statement: { Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole', Condition: { StringFancy: { 'sts:ExternalId': 'x' } } },
      }),
      /Condition type/,
    ],
  ];
  for (const [i, [policy, message]] of bad.entries()) {
    await rejectsWith(createRole(iam, `bad.policy${i}`, policy), 'MalformedPolicyDocumentException', message);
  }
  await rejectsWith(
    iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'dup.role', PolicyDocument: '{not json' })),
    'MalformedPolicyDocumentException',
  );
});

test('missing parameters, bad names and unknown actions get AWS errors', async () => {
  await rejectsWith(iam.send(new CreateRoleCommand({ RoleName: 'x.role' } as never)), 'MissingParameter', /AssumeRolePolicyDocument/);
  await rejectsWith(iam.send(new GetRoleCommand({} as never)), 'MissingParameter', /RoleName/);
  await rejectsWith(createRole(iam, 'has space', serviceTrustPolicy('ec2.amazonaws.com')), 'ValidationError');
  await rejectsWith(createRole(iam, 'x'.repeat(65), serviceTrustPolicy('ec2.amazonaws.com')), 'ValidationError');
  await rejectsWith(iam.send(new CreateUserCommand({ UserName: 'alice' })), 'InvalidAction', /CreateUser/);
});

test('UpdateAssumeRolePolicy and UpdateRole change the role', async () => {
  await createRole(iam, 'change.me', serviceTrustPolicy('ec2.amazonaws.com'));
  const next = serviceTrustPolicy('ecs-tasks.amazonaws.com');
  await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'change.me', PolicyDocument: next }));
  await iam.send(new UpdateRoleCommand({ RoleName: 'change.me', MaxSessionDuration: 7200, Description: 'now longer' }));
  const role = (await iam.send(new GetRoleCommand({ RoleName: 'change.me' }))).Role!;
  assert.equal(decodeURIComponent(role.AssumeRolePolicyDocument!), next);
  assert.equal(role.MaxSessionDuration, 7200);
  assert.equal(role.Description, 'now longer');
  await rejectsWith(iam.send(new UpdateRoleCommand({ RoleName: 'change.me', MaxSessionDuration: 60 })), 'ValidationError');
});

test('ListRoles pages with Marker and filters by PathPrefix; DeleteRole removes', async () => {
  for (const n of ['list.a', 'list.b', 'list.c']) await createRole(iam, n, serviceTrustPolicy('ec2.amazonaws.com'), '/listed/');
  const first = await iam.send(new ListRolesCommand({ PathPrefix: '/listed/', MaxItems: 2 }));
  assert.deepEqual(first.Roles?.map((r) => r.RoleName), ['list.a', 'list.b']);
  assert.equal(first.IsTruncated, true);
  const second = await iam.send(new ListRolesCommand({ PathPrefix: '/listed/', MaxItems: 2, Marker: first.Marker }));
  assert.deepEqual(second.Roles?.map((r) => r.RoleName), ['list.c']);
  assert.equal(second.IsTruncated, false);
  await iam.send(new DeleteRoleCommand({ RoleName: 'list.b' }));
  const all = await iam.send(new ListRolesCommand({ PathPrefix: '/listed/' }));
  assert.deepEqual(all.Roles?.map((r) => r.RoleName), ['list.a', 'list.c']);
});

test('accounts are separate: another account does not see these roles', async () => {
  const other = iamClient(t.sim, t.sim.rootCredentials('111122223333'));
  await rejectsWith(other.send(new GetRoleCommand({ RoleName: 'sports.api-service' })), 'NoSuchEntityException');
  assert.deepEqual((await other.send(new ListRolesCommand({}))).Roles ?? [], []);
});
