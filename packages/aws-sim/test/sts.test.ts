/** STS through the real @aws-sdk/client-sts: trust policies decide AssumeRole; durations and identities as AWS. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ListRolesCommand, UpdateRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  type Credentials,
} from '@aws-sdk/client-sts';
import { awsTrustPolicy } from '../src/policy-templates.ts';
import { ACCOUNT, OTHER_ACCOUNT, createRole, iamClient, rejectsWith, startTestSim, stsClient, type TestSim } from './helpers.ts';

let t: TestSim;
let iam: IAMClient;
const userArn = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:user/${name}`;
const roleArn = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
const asCreds = (c: Credentials | undefined) => ({
  accessKeyId: c!.AccessKeyId!,
  secretAccessKey: c!.SecretAccessKey!,
  sessionToken: c!.SessionToken!,
});

before(async () => {
  t = await startTestSim();
  iam = iamClient(t.sim, t.sim.rootCredentials(ACCOUNT));
});
after(() => t.sim.close());

test('GetCallerIdentity names the root, a user and an assumed role', async () => {
  const root = await stsClient(t.sim, t.sim.rootCredentials(ACCOUNT)).send(new GetCallerIdentityCommand({}));
  assert.deepEqual([root.Account, root.Arn, root.UserId], [ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`, ACCOUNT]);
  const alice = t.sim.createAccessKey(ACCOUNT, { userName: 'alice' });
  const me = await stsClient(t.sim, alice).send(new GetCallerIdentityCommand({}));
  assert.equal(me.Arn, userArn('alice'));
  assert.match(me.UserId ?? '', /^AIDA/);
  await createRole(iam, 'sports.api', awsTrustPolicy(userArn('alice')));
  const out = await stsClient(t.sim, alice).send(new AssumeRoleCommand({ RoleArn: roleArn('sports.api'), RoleSessionName: 'sports.api' }));
  assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/sports.api/sports.api`);
  assert.match(out.Credentials?.AccessKeyId ?? '', /^ASIA[A-Z2-7]{16}$/);
  const assumed = await stsClient(t.sim, asCreds(out.Credentials)).send(new GetCallerIdentityCommand({}));
  assert.equal(assumed.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/sports.api/sports.api`);
  assert.equal(assumed.UserId, out.AssumedRoleUser?.AssumedRoleId);
  assert.equal(assumed.Account, ACCOUNT);
});

test('AssumeRole is refused unless the trust policy names the caller', async () => {
  const bob = t.sim.createAccessKey(ACCOUNT, { userName: 'bob' });
  await rejectsWith(
    stsClient(t.sim, bob).send(new AssumeRoleCommand({ RoleArn: roleArn('sports.api'), RoleSessionName: 'bob' })),
    'AccessDenied',
    /User: arn:aws:iam::123456789012:user\/bob is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role\/sports.api/,
  );
  // An unknown role looks the same as a refused one.
  await rejectsWith(
    stsClient(t.sim, bob).send(new AssumeRoleCommand({ RoleArn: roleArn('no.such.role'), RoleSessionName: 'bob' })),
    'AccessDenied',
  );
  await rejectsWith(
    stsClient(t.sim, t.sim.rootCredentials(ACCOUNT)).send(new AssumeRoleCommand({ RoleArn: roleArn('sports.api'), RoleSessionName: 'root' })),
    'AccessDenied',
    /root accounts/,
  );
});

test('an account principal trusts every identity of that account; a Deny wins over it', async () => {
  await createRole(iam, 'carol.only', awsTrustPolicy(userArn('alice')));
  t.sim.createAccessKey(ACCOUNT, { userName: 'mallory' });
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:AssumeRole' },
      { Effect: 'Deny', Principal: { AWS: userArn('mallory') }, Action: 'sts:*' },
    ],
  });
  await createRole(iam, 'team.role', policy);
  const carol = t.sim.createAccessKey(ACCOUNT, { userName: 'carol' });
  const mallory = t.sim.createAccessKey(ACCOUNT, { userName: 'mallory' });
  const ok = await stsClient(t.sim, carol).send(new AssumeRoleCommand({ RoleArn: roleArn('team.role'), RoleSessionName: 'carol' }));
  assert.equal(ok.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/team.role/carol`);
  await rejectsWith(
    stsClient(t.sim, mallory).send(new AssumeRoleCommand({ RoleArn: roleArn('team.role'), RoleSessionName: 'mallory' })),
    'AccessDenied',
  );
  // Another account's identities are not covered by this account's root principal.
  const stranger = t.sim.createAccessKey(OTHER_ACCOUNT, { userName: 'carol' });
  await rejectsWith(
    stsClient(t.sim, stranger).send(new AssumeRoleCommand({ RoleArn: roleArn('team.role'), RoleSessionName: 'x1' })),
    'AccessDenied',
  );
});

test('cross-account trust by role ARN, with an external id condition', async () => {
  const dave = t.sim.createAccessKey(OTHER_ACCOUNT, { userName: 'dave' });
  await createRole(iam, 'partner.role', awsTrustPolicy(userArn('dave', OTHER_ACCOUNT), { externalId: 'sports-7' }));
  const sts = stsClient(t.sim, dave);
  await rejectsWith(sts.send(new AssumeRoleCommand({ RoleArn: roleArn('partner.role'), RoleSessionName: 'dave' })), 'AccessDenied');
  await rejectsWith(
    sts.send(new AssumeRoleCommand({ RoleArn: roleArn('partner.role'), RoleSessionName: 'dave', ExternalId: 'wrong-id' })),
    'AccessDenied',
  );
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn('partner.role'), RoleSessionName: 'dave', ExternalId: 'sports-7' }));
  assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/partner.role/dave`);
});

test('DurationSeconds is honored within the role maximum and the role-chaining hour', async () => {
  const alice = stsClient(t.sim, t.sim.createAccessKey(ACCOUNT, { userName: 'alice' }));
  const before = t.now().getTime();
  const dflt = await alice.send(new AssumeRoleCommand({ RoleArn: roleArn('sports.api'), RoleSessionName: 's1' }));
  const short = await alice.send(new AssumeRoleCommand({ RoleArn: roleArn('sports.api'), RoleSessionName: 's2', DurationSeconds: 900 }));
  const near = (d: Date | undefined, seconds: number) => Math.abs(d!.getTime() - before - seconds * 1000) < 5000;
  assert.ok(near(dflt.Credentials?.Expiration, 3600), 'default is one hour');
  assert.ok(near(short.Credentials?.Expiration, 900));
  await rejectsWith(
    alice.send(new AssumeRoleCommand({ RoleArn: roleArn('sports.api'), RoleSessionName: 's3', DurationSeconds: 7200 })),
    'ValidationError',
    /MaxSessionDuration/,
  );
  await rejectsWith(
    alice.send(new AssumeRoleCommand({ RoleArn: roleArn('sports.api'), RoleSessionName: 's4', DurationSeconds: 60 })),
    'ValidationError',
  );
  // Role chaining: a role session assuming a role is capped at one hour whatever the role allows.
  await createRole(iam, 'long.role', awsTrustPolicy([userArn('alice'), roleArn('sports.api')]));
  await iam.send(new UpdateRoleCommand({ RoleName: 'long.role', MaxSessionDuration: 14400 }));
  const long = await alice.send(new AssumeRoleCommand({ RoleArn: roleArn('long.role'), RoleSessionName: 'l1', DurationSeconds: 14400 }));
  assert.ok(near(long.Credentials?.Expiration, 14400));
  const chained = stsClient(t.sim, asCreds(dflt.Credentials));
  await rejectsWith(
    chained.send(new AssumeRoleCommand({ RoleArn: roleArn('long.role'), RoleSessionName: 'c1', DurationSeconds: 7200 })),
    'ValidationError',
    /role chaining/,
  );
  const ok = await chained.send(new AssumeRoleCommand({ RoleArn: roleArn('long.role'), RoleSessionName: 'c2' }));
  assert.equal(ok.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/long.role/c2`);
});

test('session tags need sts:TagSession in the trust policy', async () => {
  const alice = stsClient(t.sim, t.sim.createAccessKey(ACCOUNT, { userName: 'alice' }));
  await rejectsWith(
    alice.send(new AssumeRoleCommand({ RoleArn: roleArn('sports.api'), RoleSessionName: 't1', Tags: [{ Key: 'team', Value: 'sports' }] })),
    'AccessDenied',
    /sts:TagSession/,
  );
});

test('bad parameters and unknown actions get AWS errors', async () => {
  const alice = stsClient(t.sim, t.sim.createAccessKey(ACCOUNT, { userName: 'alice' }));
  await rejectsWith(alice.send(new AssumeRoleCommand({ RoleArn: roleArn('sports.api') } as never)), 'MissingParameter', /RoleSessionName/);
  await rejectsWith(alice.send(new AssumeRoleCommand({ RoleSessionName: 'x1' } as never)), 'MissingParameter', /RoleArn/);
  await rejectsWith(alice.send(new AssumeRoleCommand({ RoleArn: 'sports.api', RoleSessionName: 'x1' })), 'ValidationError');
  await rejectsWith(alice.send(new AssumeRoleCommand({ RoleArn: roleArn('sports.api'), RoleSessionName: 'bad name!' })), 'ValidationError');
  await rejectsWith(
    alice.send(new AssumeRoleCommand({ RoleArn: roleArn('sports.api'), RoleSessionName: 'x1', Policy: '{nope' })),
    'MalformedPolicyDocumentException',
  );
  await rejectsWith(alice.send(new GetSessionTokenCommand({})), 'InvalidAction', /GetSessionToken/);
});

test('role sessions cannot administer IAM', async () => {
  const alice = stsClient(t.sim, t.sim.createAccessKey(ACCOUNT, { userName: 'alice' }));
  const out = await alice.send(new AssumeRoleCommand({ RoleArn: roleArn('sports.api'), RoleSessionName: 'admin-try' }));
  await rejectsWith(iamClient(t.sim, asCreds(out.Credentials)).send(new ListRolesCommand({})), 'AccessDenied', /iam:ListRoles/);
});

test('conditions on the session name and principal ARN are evaluated', async () => {
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: {
      Effect: 'Allow',
      Principal: { AWS: ACCOUNT },
      Action: 'sts:AssumeRole',
      Condition: {
        StringLike: { 'sts:RoleSessionName': 'ops-*' },
        ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:user/a*` },
      },
    },
  });
  await createRole(iam, 'ops.role', policy);
  const alice = stsClient(t.sim, t.sim.createAccessKey(ACCOUNT, { userName: 'alice' }));
  const ok = await alice.send(new AssumeRoleCommand({ RoleArn: roleArn('ops.role'), RoleSessionName: 'ops-1' }));
  assert.equal(ok.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/ops.role/ops-1`);
  await rejectsWith(alice.send(new AssumeRoleCommand({ RoleArn: roleArn('ops.role'), RoleSessionName: 'dev-1' })), 'AccessDenied');
  const bob = stsClient(t.sim, t.sim.createAccessKey(ACCOUNT, { userName: 'bob' }));
  await rejectsWith(bob.send(new AssumeRoleCommand({ RoleArn: roleArn('ops.role'), RoleSessionName: 'ops-2' })), 'AccessDenied');
});
