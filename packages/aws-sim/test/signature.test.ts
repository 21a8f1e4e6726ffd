/**
 * SigV4 through the real SDK signer: tampered requests, wrong or unknown keys,
 * expired sessions and skewed clocks are refused with the codes the SDK knows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AssumeRoleCommand, GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { awsTrustPolicy } from '../src/policy-templates.ts';
import { ACCOUNT, createRole, iamClient, rejectsWith, startTestSim, stsClient, type TestSim } from './helpers.ts';

let t: TestSim;
let alice: { accessKeyId: string; secretAccessKey: string };
const ROLE = `arn:aws:iam::${ACCOUNT}:role/sports.api`;

before(async () => {
  t = await startTestSim();
  alice = t.sim.createAccessKey(ACCOUNT, { userName: 'alice' });
  await createRole(iamClient(t.sim, t.sim.rootCredentials(ACCOUNT)), 'sports.api', awsTrustPolicy(`arn:aws:iam::${ACCOUNT}:user/alice`));
});
after(() => t.sim.close());

/** Runs `edit` on the request after the SDK has signed it, just before it is sent. */
function tamper(client: STSClient, edit: (req: { headers: Record<string, string>; body: string }) => void): STSClient {
  client.middlewareStack.add(
    (next) => async (args) => {
      edit(args.request as { headers: Record<string, string>; body: string });
      return next(args);
    },
    { step: 'deserialize', name: 'tamperAfterSigning' },
  );
  return client;
}

async function session(name: string, durationSeconds = 900) {
  const out = await stsClient(t.sim, alice).send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: name, DurationSeconds: durationSeconds }));
  return { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken! };
}

test('a body changed after signing is SignatureDoesNotMatch', async () => {
  const client = tamper(stsClient(t.sim, alice), (req) => {
    req.body = req.body.replace('RoleSessionName=sessionA', 'RoleSessionName=sessionB');
  });
  await rejectsWith(client.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'sessionA' })), 'SignatureDoesNotMatch');
});

test('a changed signature or signed header is SignatureDoesNotMatch', async () => {
  const flipped = tamper(stsClient(t.sim, alice), (req) => {
    req.headers.authorization = req.headers.authorization.replace(/Signature=(.)/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
  });
  await rejectsWith(flipped.send(new GetCallerIdentityCommand({})), 'SignatureDoesNotMatch');
  const header = tamper(stsClient(t.sim, alice), (req) => {
    req.headers['x-amz-user-agent'] = 'someone-else';
  });
  await rejectsWith(header.send(new GetCallerIdentityCommand({})), 'SignatureDoesNotMatch');
});

test('the right key id with the wrong secret is SignatureDoesNotMatch', async () => {
  const wrong = { accessKeyId: alice.accessKeyId, secretAccessKey: alice.secretAccessKey.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) };
  await rejectsWith(stsClient(t.sim, wrong).send(new GetCallerIdentityCommand({})), 'SignatureDoesNotMatch');
});

test('an unknown access key is InvalidClientTokenId', async () => {
  const unknown = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
  await rejectsWith(stsClient(t.sim, unknown).send(new GetCallerIdentityCommand({})), 'InvalidClientTokenId');
});

test('session credentials without, or with another, session token are InvalidClientTokenId', async () => {
  const s = await session('token-check');
  const other = await session('token-other');
  await rejectsWith(
    stsClient(t.sim, { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }).send(new GetCallerIdentityCommand({})),
    'InvalidClientTokenId',
  );
  await rejectsWith(
    stsClient(t.sim, { ...s, sessionToken: other.sessionToken }).send(new GetCallerIdentityCommand({})),
    'InvalidClientTokenId',
  );
});

test('an unsigned request is MissingAuthenticationToken', async () => {
  const client = tamper(stsClient(t.sim, alice), (req) => {
    delete req.headers.authorization;
  });
  await rejectsWith(client.send(new GetCallerIdentityCommand({})), 'MissingAuthenticationToken');
});

test('expired session credentials are ExpiredToken', async () => {
  const s = await session('expiring', 900);
  const ok = await stsClient(t.sim, s).send(new GetCallerIdentityCommand({}));
  assert.equal(ok.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/sports.api/expiring`);
  t.advance(901_000);
  try {
    // The SDK first sees RequestExpired (its clock is 15 minutes behind), corrects its
    // offset from the Date header, retries, and then meets the expired session.
    const client = stsClient(t.sim, s);
    await rejectsWith(client.send(new GetCallerIdentityCommand({})), 'ExpiredToken');
    assert.ok(Math.abs(client.config.systemClockOffset - 901_000) < 5000, 'SDK corrected its clock from the Date header');
  } finally {
    t.advance(-901_000);
  }
});

test('a signing time more than five minutes off is RequestExpired; the SDK can correct it', async () => {
  const skewed = stsClient(t.sim, alice, { systemClockOffset: -10 * 60_000, maxAttempts: 1 });
  await rejectsWith(skewed.send(new GetCallerIdentityCommand({})), 'RequestExpired');
  const ahead = stsClient(t.sim, alice, { systemClockOffset: 10 * 60_000, maxAttempts: 1 });
  await rejectsWith(ahead.send(new GetCallerIdentityCommand({})), 'RequestExpired');
  // The refused response's Date header resets the client's offset, so its next call succeeds.
  const corrected = stsClient(t.sim, alice, { systemClockOffset: -10 * 60_000, maxAttempts: 1 });
  await rejectsWith(corrected.send(new GetCallerIdentityCommand({})), 'RequestExpired');
  assert.ok(Math.abs(corrected.config.systemClockOffset) < 5000);
  const out = await corrected.send(new GetCallerIdentityCommand({}));
  assert.equal(out.Arn, `arn:aws:iam::${ACCOUNT}:user/alice`);
  const slightly = stsClient(t.sim, alice, { systemClockOffset: -2 * 60_000, maxAttempts: 1 });
  assert.equal((await slightly.send(new GetCallerIdentityCommand({}))).Account, ACCOUNT);
});
