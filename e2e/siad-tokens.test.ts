/**
 * siad's access tokens, as a separate process in a simulated Fargate task
 * against a real tessera server: the token files Athenz's SIA writes (path,
 * mode, content), verified by jose against ZTS's JWKS and bound to the
 * certificate on disk; a refused role reported in ZTS's words; the daemon
 * fetching a new token with each new certificate.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { httpsJson } from '@tessera/core/https-client';
import { startTestServer, type TestServer } from '@tessera/server/test/support/test-server';
import { ACCOUNT, setUpSports } from '@tessera/server/test/support/cert-flow';

const ROOT = new URL('..', import.meta.url).pathname;
const SIAD = join(ROOT, 'packages/sia/bin/siad.js');

let sim: AwsSim;
let t: TestServer;
let dir: string;
let caFile: string;

function args(siadir: string, config: string, extra: string[]): string[] {
  const port = new URL(t.server.ztsUrl).port;
  return [SIAD, '-zts', 'localhost', '-ztsport', port, '-ztscacert', caFile, '-dnsdomains', 'aws.athenz.cloud', '-providerprefix', 'athenz.aws', '-siadir', siadir, '-config', config, ...extra];
}

function siad(siadir: string, config: string, extra: string[], env: Record<string, string>): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args(siadir, config, extra), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (status) => resolve({ status, out }));
  });
}

async function verifyToken(jwt: string): Promise<JWTPayload> {
  const keys = await httpsJson<JSONWebKeySet>({ url: `${t.server.ztsUrl}/oauth2/keys?rfc=true`, ca: t.ca });
  return (await jwtVerify(jwt, createLocalJWKSet(keys.body), { issuer: t.server.ztsUrl, typ: 'at+jwt' })).payload;
}

const thumbprint = (certFile: string) => createHash('sha256').update(new X509Certificate(readFileSync(certFile)).raw).digest('base64url');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-siad-tokens-'));
  sim = await startAwsSim({ filesDir: join(dir, 'sim') });
  t = await startTestServer('sqlite', { awsStsEndpoint: sim.url });
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, t.ca);
  await setUpSports(t, sim);
  const writers = await t.admin.call('PUT', '/domain/sports/role/writers', { roleMembers: [{ memberName: 'sports.other' }] });
  assert.equal(writers.status, 204, writers.text);
});

after(async () => {
  await t?.close();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('-cmd post,token writes Athenz\'s token files, bound to the service certificate; a refused role says why', async () => {
  const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
  const siadir = join(dir, 'oneshot');
  const config = join(dir, 'oneshot-sia_config');
  writeFileSync(config, JSON.stringify({
    service: 'api',
    accounts: [{ domain: 'sports', account: ACCOUNT }],
    access_tokens: { 'sports/readers': {}, 'sports/everything': { roles: ['*'], expires_in: 3600 } },
  }));
  const r = await siad(siadir, config, ['-cmd', 'post,token'], task.env);
  assert.equal(r.status, 0, r.out);
  assert.doesNotMatch(r.out, /eyJ/, 'no token in the log');
  assert.ok(existsSync(join(siadir, 'token.done')));

  const readers = join(siadir, 'tokens', 'sports', 'readers');
  assert.equal(statSync(readers).mode & 0o777, 0o440);
  // store_token_option 1 (Athenz's default): the token as a JSON string.
  const jwt = JSON.parse(readFileSync(readers, 'utf8')) as string;
  const claims = await verifyToken(jwt);
  assert.equal(claims.aud, 'sports');
  assert.deepEqual(claims.scp, ['readers']);
  assert.equal((claims.exp as number) - (claims.iat as number), 28_800, 'Athenz SIA asks for 8 hours');
  assert.equal((claims.cnf as Record<string, string>)['x5t#S256'], thumbprint(join(siadir, 'certs', 'sports.api.cert.pem')));
  const all = await verifyToken(JSON.parse(readFileSync(join(siadir, 'tokens', 'sports', 'everything'), 'utf8')) as string);
  assert.deepEqual(all.scp, ['readers']);
  assert.equal((all.exp as number) - (all.iat as number), 3600);

  // A role the service is not in: ZTS's refusal, the other tokens still written.
  const bad = join(dir, 'bad-sia_config');
  writeFileSync(bad, JSON.stringify({ service: 'api', accounts: [{ domain: 'sports', account: ACCOUNT }], store_token_option: 2, access_tokens: { 'sports/writers': {}, 'sports/readers': {} } }));
  const refused = await siad(siadir, bad, ['-cmd', 'token'], task.env);
  assert.equal(refused.status, 1, refused.out);
  assert.match(refused.out, /sports\/writers: ZTS refused the access token sports\/writers \(403\): principal sports\.api is not included in the requested role\(s\) writers in domain sports/);
  assert.match(readFileSync(readers, 'utf8'), /^eyJ[^"]+$/, 'store_token_option 2: the bare token');
});

test('the daemon fetches a new token with every new certificate (the token is bound to it)', async () => {
  const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
  const siadir = join(dir, 'daemon');
  const config = join(dir, 'daemon-sia_config');
  // refresh_interval in minutes: 0.03 = 1.8 s.
  writeFileSync(config, JSON.stringify({ service: 'api', refresh_interval: 0.03, store_token_option: 0, accounts: [{ domain: 'sports', account: ACCOUNT }], access_tokens: { 'sports/readers': {} } }));
  const child = spawn(process.execPath, args(siadir, config, []), { env: task.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    const deadline = Date.now() + 60_000;
    while ((out.match(/sports\/readers: wrote/g)?.length ?? 0) < 3) {
      assert.ok(Date.now() < deadline, `timed out; output:\n${out}`);
      assert.equal(child.exitCode, null, out);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(out, /refreshing every 1\.8s \(up to 10% early, at random\)/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
  // Every new certificate is followed by a new token before the next certificate.
  const events = [...out.matchAll(/sports\.api: certificate valid until|sports\/readers: wrote/g)].map((m) => (m[0].startsWith('sports.api') ? 'cert' : 'token'));
  for (let i = 0; i + 1 < events.length; i++) if (events[i] === 'cert') assert.equal(events[i + 1], 'token', out);
  // The files on disk: when the last thing written was the token, it is bound to the certificate beside it.
  if (events.at(-1) === 'token') {
    const response = JSON.parse(readFileSync(join(siadir, 'tokens', 'sports', 'readers'), 'utf8')) as { access_token: string; token_type: string };
    assert.equal(response.token_type, 'Bearer', 'store_token_option 0: the whole ZTS response');
    const claims = await verifyToken(response.access_token);
    assert.equal((claims.cnf as Record<string, string>)['x5t#S256'], thumbprint(join(siadir, 'certs', 'sports.api.cert.pem')));
  }
});
