/**
 * `siad -cmd diagnose` as a separate process in aws-sim Fargate tasks,
 * against a real tessera server: every link that can break (no platform,
 * trust missing, ZTS unreachable, CA not trusted, provider not allowed,
 * account not registered) prints ✗ with what a person needs, and exits 1;
 * the all-pass case exits 0 and issues nothing (ZTS's check-only register).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { awsTrustPolicy, serviceTrustPolicy } from '@tessera/aws-sim/policy-templates';
import { freePort } from '@tessera/core/free-port';
import { startTestServer, type TestServer } from '@tessera/server/test/support/test-server';

const ROOT = new URL('..', import.meta.url).pathname;
const SIAD = join(ROOT, 'packages/sia/bin/siad.js');
const ACCOUNT = '123456789012';
const arn = (role: string) => `arn:aws:iam::${ACCOUNT}:role/${role}`;

let sim: AwsSim;
let t: TestServer;
let dir: string;
let caFile: string;
let ztsPort: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-diagnose-'));
  sim = await startAwsSim({ filesDir: join(dir, 'sim') });
  t = await startTestServer('sqlite', { awsStsEndpoint: sim.url });
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, t.ca);
  ztsPort = Number(new URL(t.server.ztsUrl).port);
  for (const [m, p, b] of [
    ['POST', '/domain', { name: 'sports', adminUsers: ['user.admin'] }],
    ['PUT', '/domain/sports/meta/system/account', { account: ACCOUNT }],
    ['PUT', '/domain/sports/service/api', { name: 'sports.api' }],
    ['PUT', '/domain/sports/service/noprov', { name: 'sports.noprov' }],
    ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
    // media: service and provider allowed, but no AWS account registered.
    ['POST', '/domain', { name: 'media', adminUsers: ['user.admin'] }],
    ['PUT', '/domain/media/service/api', { name: 'media.api' }],
    ['PUT', '/domain/media/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
  ] as [string, string, unknown][]) {
    const r = await t.admin.call(m, p, b);
    assert.ok(r.status < 300, `${m} ${p}: ${r.text}`);
  }
  const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.url, credentials: sim.createAccessKey(ACCOUNT, { userName: 'admin' }) });
  for (const name of ['sports.api-service', 'sports.notrust-service', 'sports.noprov-service', 'media.api-service']) {
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: serviceTrustPolicy('ecs-tasks.amazonaws.com') }));
  }
  for (const [name, trusted] of [['sports.api', 'sports.api-service'], ['sports.notrust', 'sports.api-service'], ['sports.noprov', 'sports.noprov-service'], ['media.api', 'media.api-service']]) {
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: awsTrustPolicy(arn(trusted)) }));
  }
  iam.destroy();
});

after(async () => {
  await t?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  out: string;
  err: string;
}

function siad(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SIAD, '-dnsdomains', 'aws.athenz.cloud', '-providerprefix', 'athenz.aws', '-zts', 'localhost',
      '-siadir', join(dir, 'sia'), '-config', '/nonexistent/sia_config', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (status) => resolve({ status, out, err }));
  });
}

const zts = (port = ztsPort, ca = caFile) => ['-ztsport', String(port), '-ztscacert', ca];
const task = async (role: string) => (await sim.launchFargateTask({ taskRole: role, account: ACCOUNT, cluster: 'prod' })).env;

test('all links hold: seven ✓, exit 0, and nothing is issued', async () => {
  const r = await siad(['-cmd', 'diagnose', ...zts()], await task('sports.api-service'));
  assert.equal(r.status, 0, r.out + r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.equal(lines.length, 7, r.out);
  assert.ok(lines.every((l) => l.startsWith('✓ ')), r.out);
  assert.match(r.out, /✓ platform fargate: instance [0-9a-f]{32} in us-west-2/);
  assert.match(r.out, /✓ workload credentials: role arn:aws:iam::123456789012:role\/sports\.api-service/);
  assert.match(r.out, /✓ role sports\.api-service → service sports\.api \(from IAM role sports\.api-service\), account 123456789012/);
  assert.match(r.out, /✓ AssumeRole of arn:aws:iam::123456789012:role\/sports\.api: its trust policy lets arn:aws:iam::123456789012:role\/sports\.api-service in/);
  assert.match(r.out, /✓ identity token: none; siad attests with STS credentials \(ZTS then calls STS for every certificate\); to use a token, once the account enables outbound web identity federation, set aws_web_identity in sia_config/);
  assert.match(r.out, /✓ ZTS at https:\/\/localhost:\d+\/zts\/v1 answers, and its certificate is signed by the CA in /);
  assert.match(r.out, /✓ ZTS's verdict: domain sports, account 123456789012, service api and provider athenz\.aws\.us-west-2 are in order; a register would succeed \(nothing was issued\)/);
  const instances = await t.admin.call<{ instances: unknown[] }>('GET', '/domain/sports/service/api/instances');
  assert.equal(instances.status, 200);
  assert.deepEqual(instances.body.instances, [], 'the check-only register wrote no certificate record');
});

test('no platform: ✗ with the -platform hint, the rest not checked', async () => {
  const r = await siad(['-cmd', 'diagnose', ...zts()], { PATH: process.env.PATH ?? '', AWS_EC2_METADATA_DISABLED: 'true' });
  assert.equal(r.status, 1);
  assert.match(r.out, /^✗ platform: cannot tell where siad runs: .*give -platform eks\|fargate\|ec2/m);
  assert.match(r.out, /^- ZTS's verdict: domain, account, service, provider allowed: not checked$/m);
  assert.doesNotMatch(r.out, /✓/);
});

test('trust missing: ✗ at AssumeRole with the statement to add', async () => {
  const r = await siad(['-cmd', 'diagnose', ...zts()], await task('sports.notrust-service'));
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /✓ role sports\.notrust-service → service sports\.notrust/);
  assert.match(r.out, /✗ AssumeRole of <domain>\.<service>: AWS refused to let arn:aws:sts::123456789012:assumed-role\/sports\.notrust-service\/\S+ assume arn:aws:iam::123456789012:role\/sports\.notrust/);
  assert.match(r.out, /"AWS": "arn:aws:iam::123456789012:role\/sports\.notrust-service"/);
  assert.match(r.out, /in IAM, create the role arn:aws:iam::123456789012:role\/sports\.notrust \(no permissions needed\) with the trust statement above/);
  assert.match(r.out, /^- ZTS reachable, its CA trusted: not checked$/m);
});

test('ZTS unreachable: ✗ names the address and what to check', async () => {
  const closed = await freePort();
  const r = await siad(['-cmd', 'diagnose', ...zts(closed)], await task('sports.api-service'));
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /✓ AssumeRole of arn:aws:iam::123456789012:role\/sports\.api/);
  assert.match(r.out, new RegExp(`✗ ZTS reachable, its CA trusted: cannot reach ZTS at https://localhost:${closed}/zts/v1: .*ECONNREFUSED`));
  assert.match(r.out, /check -zts and -ztsport, that ZTS runs/);
});

test('CA not trusted: ✗ says which file is not the CA, and where the right one is', async () => {
  const wrongCa = join(dir, 'not-the-ca.pem');
  writeFileSync(wrongCa, sim.identityDocumentCertPem);
  const r = await siad(['-cmd', 'diagnose', ...zts(ztsPort, wrongCa)], await task('sports.api-service'));
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /✗ ZTS reachable, its CA trusted: ZTS's certificate is not trusted \([A-Z_]+\)/);
  assert.match(r.out, new RegExp(`give -ztscacert the CA certificate that signed ZTS's certificate \\(tessera serve prints its path as "CA file"\\); ${wrongCa} is not it`));
  const missing = await siad(['-cmd', 'diagnose', ...zts(ztsPort, join(dir, 'nope.pem'))], await task('sports.api-service'));
  assert.equal(missing.status, 1);
  assert.match(missing.out, /✗ ZTS reachable, its CA trusted: cannot read -ztscacert .*nope\.pem/);
});

test('provider not allowed: ✗ with ZTS\'s own words, exactly as a real register is refused', async () => {
  const env = await task('sports.noprov-service');
  const r = await siad(['-cmd', 'diagnose', ...zts()], env);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /✓ ZTS at /);
  const m = /✗ ZTS's verdict: domain, account, service, provider allowed: ZTS refused \(403\): (.*)$/m.exec(r.out);
  assert.ok(m, r.out);
  assert.match(m[1], /provider 'athenz\.aws\.us-west-2' not authorized to launch sports\.noprov instances/);
  const post = await siad(['-cmd', 'post', ...zts()], env);
  assert.equal(post.status, 1);
  assert.ok(post.err.includes(`ZTS refused to register sports.noprov (403): ${m[1]}`), `a real register is refused the same way:\n${post.err}`);
});

test('account not registered: ✗ with the zms-cli command that registers it', async () => {
  const r = await siad(['-cmd', 'diagnose', ...zts()], await task('media.api-service'));
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /✗ ZTS's verdict: domain, account, service, provider allowed: ZTS refused \(\d{3}\): .*domain media has no AWS account registered; run: zms-cli -d media set-aws-account <aws-account-id>/);
});
