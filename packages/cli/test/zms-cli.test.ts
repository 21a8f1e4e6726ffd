/** zms-cli against a real server: every command, the token cache, and refused and malformed cases. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { startTestServer, ADMIN_PASSWORD, type TestServer } from '@tessera/server/test/support/test-server';
import { clientCertificate } from '@tessera/server/test/support/client-certificate';
import { main } from '../src/main.ts';

const BIN = new URL('../bin/zms-cli.js', import.meta.url).pathname;
let t: TestServer;
let home: string;
let caFile: string;

interface Result { status: number; out: string; err: string }

async function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const status = await main(args, {
    env: { HOME: home, USER: 'admin', ZMS: t.url, ZMS_CA: caFile, TESSERA_PASSWORD: ADMIN_PASSWORD, ...env },
    stdout,
    stderr,
    stdin: new PassThrough(),
  });
  return { status, out, err };
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await cli(args, env);
  assert.equal(r.status, 0, `zms-cli ${args.join(' ')}: ${r.err}`);
  return r.out;
}

before(async () => {
  t = await startTestServer('sqlite');
  home = mkdtempSync(join(tmpdir(), 'zms-cli-home-'));
  caFile = join(home, 'ca.pem');
  writeFileSync(caFile, t.ca);
  await t.user('jane');
});
after(async () => {
  await t?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('the workflow commands', () => {
  test('add-domain, set-aws-account, add-service, set-domain-template, check-access', async () => {
    assert.equal(await ok(['add-domain', 'sports', 'jane']), '[domain created: sports]\n');
    assert.equal(await ok(['-d', 'sports', 'set-aws-account', '123456789012']), '[domain sports account successfully updated]\n');
    const show = await ok(['show-domain', 'sports']);
    assert.match(show, /^domain:\n/);
    assert.match(show, /aws_account: "?123456789012"?/);
    assert.match(show, /roles:\n\s+- admin/);
    const svc = await ok(['-d', 'sports', 'add-service', 'api']);
    assert.match(svc, /^service:\n\s+- name: sports\.api\n/);
    assert.equal(await ok(['-d', 'sports', 'check-access', 'launch', 'sports:service.api', 'athenz.aws.us-west-2']), 'access: denied\n');
    assert.equal(await ok(['-d', 'sports', 'set-domain-template', 'aws_instance_launch_provider', 'service=api']), '[Template(s) successfully applied to domain]\n');
    assert.equal(await ok(['-d', 'sports', 'show-access', 'launch', 'sports:service.api', 'athenz.aws.us-west-2']), 'access: granted\n');
    assert.match(await ok(['-d', 'sports', 'list-domain-template']), /templates:\n\s+- aws_instance_launch_provider/);
    assert.match(await ok(['list-server-template']), /aws_ecs_instance_launch_provider/);
    const admins = JSON.parse(await ok(['-o', 'json', '-d', 'sports', 'show-role', 'admin']));
    assert.deepEqual(admins[0].members.map((m: { name: string }) => m.name).sort(), ['user.admin', 'user.jane']);
  });

  test('sub-domain, user domain, list and delete', async () => {
    assert.equal(await ok(['add-domain', 'sports.web', 'jane']), '[subdomain created: sports.web]\n');
    assert.equal(await ok(['add-domain', 'user.jane'], { USER: 'jane', TESSERA_PASSWORD: 'jane-password' }), '[domain created: user.jane]\n');
    assert.match(await ok(['list-domain', 'sports']), /domains:\n\s+- sports\n\s+- sports\.web\n/);
    assert.equal(await ok(['delete-domain', 'sports.web']), '[Deleted domain sports.web]\n');
    assert.equal(await ok(['delete-domain', 'user.jane'], { USER: 'jane', TESSERA_PASSWORD: 'jane-password' }), '[Deleted domain user.jane]\n');
  });

  test('services with a public key file; show, list, delete', async () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(join(home, 'key.pem'), pem);
    const out = await ok(['-d', 'sports', 'add-service', 'backend', 'v0', join(home, 'key.pem')]);
    assert.match(out, /publicKeys:\n\s+- keyId: v0\n\s+value: \S+/);
    assert.match(await ok(['-d', 'sports', 'show-service', 'backend']), /keyId: v0/);
    assert.match(await ok(['-d', 'sports', 'list-service']), /services:\n\s+- api\n\s+- backend/);
    const dup = await cli(['-d', 'sports', 'add-service', 'backend']);
    assert.equal(dup.status, 1);
    assert.match(dup.err, /service identity already exists: sports\.backend - use add-public-key/);
    assert.equal(await ok(['-d', 'sports', 'delete-service', 'backend']), '[Deleted service identity: sports.backend]\n');
  });

  test('roles and members, policies and assertions', async () => {
    assert.match(await ok(['-d', 'sports', 'add-regular-role', 'readers', 'jane', 'sports.api']), /role:\n\s+- name: readers\n\s+members:\n\s+- name: sports\.api\n\s+- name: user\.jane/);
    assert.equal(await ok(['-d', 'sports', 'add-member', 'readers', 'bob', 'carol']), '[Added to readers: user.bob,user.carol]\n');
    assert.equal(await ok(['-d', 'sports', 'delete-member', 'readers', 'bob']), '[Deleted from readers: user.bob]\n');
    const log = await ok(['-d', 'sports', 'show-role', 'readers', 'log']);
    assert.match(log, /changes:/);
    assert.match(log, /delete: user\.bob/);
    assert.match(await ok(['-d', 'sports', 'add-policy', 'readers', 'grant', 'read', 'to', 'readers', 'on', 'data.*']), /assertions:\n\s+- grant read to readers on data\.\*/);
    assert.match(await ok(['-d', 'sports', 'add-assertion', 'readers', 'deny', 'read', 'to', 'readers', 'on', 'data.secret']), /- deny read to readers on data\.secret/);
    assert.equal(await ok(['-d', 'sports', 'check-access', 'read', 'sports:data.secret', 'jane']), 'access: denied\n');
    const after = await ok(['-d', 'sports', 'delete-assertion', 'readers', 'deny', 'read', 'to', 'readers', 'on', 'data.secret']);
    assert.doesNotMatch(after, /deny/);
    assert.equal(await ok(['-d', 'sports', 'check-access', 'read', 'sports:data.secret', 'jane']), 'access: granted\n');
    assert.match(await ok(['-d', 'sports', 'show-policy', 'readers']), /grant read to readers on data\.\*/);
    const yaml = await ok(['-o', 'yaml', '-d', 'sports', 'add-member', 'readers', 'dave']);
    assert.equal(yaml, 'status: 200\nmessage: "Added to readers: user.dave"\n');
  });
});

describe('refused and malformed', () => {
  test('a user without rights gets the server\'s 403 and exit status 1', async () => {
    const env = { USER: 'mallory', TESSERA_PASSWORD: 'mallory-password' };
    await t.user('mallory');
    for (const args of [
      ['add-domain', 'evil'],
      ['-d', 'sports', 'set-aws-account', '111111111111'],
      ['-d', 'sports', 'add-service', 'evil'],
      ['-d', 'sports', 'set-domain-template', 'aws_instance_launch_provider', 'service=api'],
      ['-d', 'sports', 'add-member', 'admin', 'mallory'],
      ['-d', 'sports', 'add-regular-role', 'evil', 'mallory'],
      ['-d', 'sports', 'add-policy', 'evil'],
      ['-d', 'sports', 'delete-service', 'api'],
      ['delete-domain', 'sports'],
    ]) {
      const r = await cli(args, env);
      assert.equal(r.status, 1, `${args.join(' ')} → ${r.status} ${r.out}`);
      assert.match(r.err, /^code: 403\nmessage: /, args.join(' '));
    }
    const json = await cli(['-o', 'json', '-d', 'sports', 'add-service', 'evil'], env);
    assert.equal(JSON.parse(json.err).code, 403);
  });

  test('bad input: clear messages, exit status 1 or 2', async () => {
    const cases: [string[], RegExp][] = [
      [['-d', 'sports', 'set-aws-account', '12345'], /12 digits/],
      [['set-aws-account', '123456789012'], /no domain specified\. Use -d argument/],
      [['-d', 'sports', 'add-policy', 'p2', 'grant', 'read', 'readers'], /assertion must be: grant\|deny <action> to <role> on <resource>/],
      [['-d', 'sports', 'add-regular-role', 'admin'], /cannot replace reserved 'admin' role/],
      [['-d', 'sports', 'add-regular-role', 'readers'], /role already exists: sports:role\.readers/],
      [['-d', 'sports', 'set-domain-template', 'aws_instance_launch_provider'], /needs parameter "service"/],
      [['-d', 'sports', 'add-service', 'k1', 'v0', '/nonexistent.pem'], /cannot read key file/],
      [['-o', 'xml', 'list-domain'], /-o takes json or yaml/],
      [['-d', 'nosuch', 'show-service', 'api'], /code: 404/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.out}`);
      assert.match(r.err, message, args.join(' '));
    }
    const unknown = await cli(['frobnicate']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.err, /unknown command 'frobnicate'/);
    const wrongPassword = await cli(['list-domain'], { HOME: mkdtempSync(join(tmpdir(), 'zms-cli-h2-')), TESSERA_PASSWORD: 'wrong' });
    assert.equal(wrongPassword.status, 1);
    assert.match(wrongPassword.err, /code: 401\nmessage: Invalid user name or password/);
  });

  test('-h on every command', async () => {
    const help = await cli(['-h']);
    assert.equal(help.status, 0);
    for (const c of ['add-domain', 'set-aws-account', 'add-service', 'set-domain-template', 'check-access', 'delete-assertion']) {
      assert.match(help.out, new RegExp(c));
      const r = await cli([c, '-h']);
      assert.equal(r.status, 0, c);
      assert.match(r.out, new RegExp(`Usage: zms-cli ${c}`));
    }
  });
});

describe('the zms-cli binary', () => {
  // Asynchronous: the server under test runs in this process and must keep answering.
  const run = (args: string[], env: Record<string, string>) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { PATH: process.env.PATH ?? '', HOME: home, USER: 'admin', ZMS: t.url, ZMS_CA: caFile, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  test('logs in once, caches the token 0600 in ~/.ntoken, and reuses it', async () => {
    rmSync(join(home, '.ntoken'), { force: true });
    const first = await run(['list-domain', 'sports'], { TESSERA_PASSWORD: ADMIN_PASSWORD });
    assert.equal(first.status, 0, first.stderr);
    assert.equal(statSync(join(home, '.ntoken')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(home, '.ntoken'), 'utf8'), /^v=U1;d=user;n=admin;/);
    // No password now: the cached token is used.
    const second = await run(['list-domain', 'sports'], {});
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /- sports/);
  });

  test('without a password or a terminal it says how to give one', async () => {
    rmSync(join(home, '.ntoken'), { force: true });
    const r = await run(['list-domain'], {});
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no password for user\.admin: set TESSERA_PASSWORD, run interactively, or use -key\/-cert/);
  });

  test('mTLS with -key and -cert (Athenz single-dash flags)', async () => {
    const svc = await clientCertificate({ keyPem: t.server.tls.caKeyPem, certPem: t.server.tls.caCertPem }, { commonName: 'sports.api' });
    writeFileSync(join(home, 'svc.key'), svc.key);
    writeFileSync(join(home, 'svc.cert'), svc.cert);
    const r = await run(['-key', join(home, 'svc.key'), '-cert', join(home, 'svc.cert'), '-d', 'sports', 'check-access', 'launch', 'sports:service.api'], {});
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'access: denied\n');
  });
});
