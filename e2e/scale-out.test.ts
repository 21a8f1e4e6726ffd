/**
 * The topology a user runs: three `tessera serve` replicas on one PostgreSQL
 * behind nginx — ZMS through nginx's HTTP proxy, ZTS's mutual TLS passed
 * through untouched by its stream module — under a bounded mixed load
 * (registers, refreshes, ZMS writes) while one replica is killed with
 * `kill -9` and started again, PostgreSQL restarts, and the replicas restart
 * one by one. Then the same through pgbouncer in transaction mode, where
 * change notifications do not arrive and the poll carries every change.
 *
 * Asserted: no acknowledged write is lost; every request that failed
 * succeeded on retry; after a revocation is acknowledged, no replica issues a
 * certificate for it past the propagation bound.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { httpsJson, type HttpsResponse } from '@tessera/core/https-client';
import { freePort } from '@tessera/core/free-port';
import { createCsr } from '@tessera/core/x509/csr';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { parseCertificate } from '@tessera/core/x509/certificate';
import { startTestPostgres, type TestPostgres } from '@tessera/store/test/support/postgres';
import { startServeProcess, type ServeProcess } from '@tessera/server/test/support/serve-process';
import { fargateCreds, PROVIDER, setUpSports } from '@tessera/server/test/support/cert-flow';
import { ADMIN_PASSWORD } from '@tessera/server/test/support/test-server';
import { attestation, serviceCsr, type AwsCreds } from '@tessera/server/test/support/workload';

const NGINX_STREAM = '/usr/lib/nginx/modules/ngx_stream_module.so';
const SETUP_HINT = 'run `npm run setup` (it installs Debian\'s nginx, libnginx-mod-stream and pgbouncer)';
/** A request that fails is retried for up to this long (a replica restarting, PostgreSQL recovering). */
const RETRY_FOR_MS = 60_000;
/** The poll interval; also the propagation bound where notifications do not arrive (pgbouncer). */
const POLL_MS = 1000;
/** A revocation bites on every replica within this after it was acknowledged: the poll, and slack for a loaded machine. */
const PROPAGATION_BOUND_MS = POLL_MS + 4000;
const WORKERS = 3;

let sim: AwsSim;
let pg: TestPostgres;
let dir: string;
let ca: string;
let nginx: ChildProcess;
let lb: { zms: number; zts: number };
const ports: { zms: number; zts: number }[] = [];

function need(path: string, what: string): void {
  if (!existsSync(path)) throw new Error(`${what} is not installed (${path} is missing): ${SETUP_HINT}.`);
}

/** Waits until `ok()` holds, checking every 20 ms, for up to `ms`. */
async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A long-running child (nginx, pgbouncer): its output kept for the failure message. */
function daemon(cmd: string, args: string[]): { child: ChildProcess; output: () => string; stop: () => Promise<void> } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function listening(port: number, what: string, d: { child: ChildProcess; output: () => string }): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (d.child.exitCode !== null) throw new Error(`${what} exited:\n${d.output()}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`${what} does not listen on ${port}:\n${d.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function nginxConfig(): string {
  const servers = (key: 'zms' | 'zts') => ports.map((p) => `server 127.0.0.1:${p[key]} max_fails=1 fail_timeout=1s;`).join(' ');
  return `load_module ${NGINX_STREAM};
daemon off;
master_process on;
worker_processes 1;
user root;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  upstream zms { ${servers('zms')} }
  server {
    listen 127.0.0.1:${lb.zms} ssl;
    ssl_certificate ${dir}/data/server.cert.pem;
    ssl_certificate_key ${dir}/data/server.key.pem;
    location / {
      proxy_pass https://zms;
      proxy_connect_timeout 2s;
      proxy_next_upstream error timeout http_502;
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
stream {
  upstream zts { ${servers('zts')} }
  server { listen 127.0.0.1:${lb.zts}; proxy_pass zts; proxy_connect_timeout 2s; }
}
`;
}

/** pgbouncer in transaction mode in front of the test PostgreSQL; it runs as the postgres user (it refuses root). */
async function startPgbouncer(): Promise<{ url: string; stop: () => Promise<void> }> {
  need('/usr/sbin/pgbouncer', 'pgbouncer');
  const port = await freePort();
  const conf = join(dir, 'pgbouncer');
  execFileSync('mkdir', ['-p', conf]);
  writeFileSync(join(conf, 'users.txt'), '"postgres" ""\n');
  writeFileSync(join(conf, 'pgbouncer.ini'), `[databases]
tessera_test = host=127.0.0.1 port=${pg.port} dbname=tessera_test user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(conf, 'users.txt')}
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
server_connect_timeout = 2
`);
  for (const p of [dir, conf]) chmodSync(p, 0o755);
  for (const f of ['users.txt', 'pgbouncer.ini']) chmodSync(join(conf, f), 0o644);
  const args = [join(conf, 'pgbouncer.ini')];
  const d = process.getuid?.() === 0 ? daemon('/usr/sbin/pgbouncer', ['-u', 'postgres', ...args]) : daemon('/usr/sbin/pgbouncer', args);
  await listening(port, 'pgbouncer', d);
  return { url: `postgresql://postgres@127.0.0.1:${port}/tessera_test`, stop: d.stop };
}

/** Calls through nginx, or straight to one replica. */
function zmsCall(token: string) {
  return <T = { message?: string }>(method: string, path: string, body?: unknown): Promise<HttpsResponse<T>> =>
    httpsJson<T>({ method, url: `https://localhost:${lb.zms}/zms/v1${path}`, body, ca, headers: { authorization: `Bearer ${token}` }, timeoutMs: 10_000 });
}
const ztsAt = (port: number) => <T = Record<string, string>>(method: string, path: string, body: unknown, mtls?: { cert: string; key: string }) =>
  httpsJson<T>({ method, url: `https://localhost:${port}/zts/v1${path}`, body, ca, ...(mtls ?? {}), headers: { 'user-agent': 'SIA-AWS test' }, timeoutMs: 10_000 });

interface Tally {
  ops: number;
  retried: number;
}

/**
 * Runs `op` until `ok(response)`; a refusal of the kind a restart or an outage
 * gives (no connection, a reset, 502/503) is retried, anything else fails the test.
 */
async function retried<T>(what: string, tally: Tally, op: () => Promise<HttpsResponse<T>>, ok: (r: HttpsResponse<T>) => boolean): Promise<HttpsResponse<T>> {
  const deadline = Date.now() + RETRY_FOR_MS;
  for (let failed = false; ; failed = true) {
    let why: string;
    try {
      const r = await op();
      if (ok(r)) {
        tally.ops++;
        if (failed) tally.retried++;
        return r;
      }
      if (r.status !== 502 && r.status !== 503 && r.status !== 504) assert.fail(`${what}: ${r.status} ${r.text}`);
      why = `${r.status} ${r.text}`;
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      why = (e as Error).message;
    }
    if (Date.now() > deadline) assert.fail(`${what} did not succeed on retry within ${RETRY_FOR_MS} ms: ${why}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Workload {
  taskId: string;
  creds: AwsCreds;
  keyPem: string;
  current?: { cert: string; key: string };
}

const ZTS_LB = () => ztsAt(lb.zts);

async function register(w: Workload, tally: Tally): Promise<void> {
  const { csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId: w.taskId, keyPem: w.keyPem });
  const r = await retried('register', tally, () => ZTS_LB()<{ x509Certificate: string }>('POST', '/instance', {
    provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', w.creds),
  }), (x) => x.status === 201);
  w.current = { cert: r.body.x509Certificate, key: w.keyPem };
}

async function refresh(w: Workload, tally: Tally): Promise<void> {
  const { csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId: w.taskId, keyPem: w.keyPem });
  const presented = w.current!;
  const r = await retried('refresh', tally, () => ZTS_LB()<{ x509Certificate: string }>('POST', `/instance/${PROVIDER}/sports/api/${w.taskId}`, {
    csr, attestationData: attestation('sports.api', w.creds),
  }, presented), (x) => x.status === 200);
  w.current = { cert: r.body.x509Certificate, key: w.keyPem };
}

/** The whole scenario on replicas whose store is `db` (extra serve flags in `flags`). */
async function scenario(label: string, db: string, flags: string[]): Promise<void> {
  const replicas: (ServeProcess | undefined)[] = [];
  const start = async (i: number) => {
    replicas[i] = await startServeProcess(join(dir, 'data'), [
      '--db', db, '--aws-sts-endpoint', sim.url, '--snapshot-poll-ms', String(POLL_MS), '--refresh-retry-grace', '60', '--server-names', 'localhost', ...flags,
    ], {}, ports[i]);
  };
  try {
    for (let i = 0; i < ports.length; i++) await start(i);
    const login = await httpsJson<{ token: string }>({
      url: `https://localhost:${lb.zms}/zms/v1/user/_self_/token`, ca, headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
    });
    assert.equal(login.status, 200, login.text);
    const zms = zmsCall(login.body.token);
    if ((await zms('GET', '/domain/sports')).status === 404) {
      await setUpSports({ admin: { call: (m, p, b) => zms(m, p, b) as never } }, sim);
    }
    const role = `load-${label}`;
    assert.equal((await zms('PUT', `/domain/sports/role/${role}`, { name: `sports:role.${role}` })).status, 204);

    // The load: each worker registers its instance, then refreshes it and adds role members in turn.
    const tally: Tally = { ops: 0, retried: 0 };
    const acknowledged: string[] = [];
    const workloads: Workload[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const { creds, taskId } = await fargateCreds(sim);
      workloads.push({ taskId, creds, keyPem: generateKeyPair('ec').privateKeyPem });
    }
    let stopping = false;
    const load = Promise.all(workloads.map(async (w, i) => {
      await register(w, tally);
      for (let k = 0; !stopping; k++) {
        if (k % 3 === 2) await refresh(w, tally);
        else if (k % 7 === 6) await register(w, tally);
        const member = `user.${label}-${i}-${k}`;
        await retried(`PUT member ${member}`, tally, () => zms('PUT', `/domain/sports/role/${role}/member/${member}`, { memberName: member }), (r) => r.status === 204);
        acknowledged.push(member);
      }
    }));
    const progress = async (what: string) => {
      const target = tally.ops + WORKERS;
      await until(`load makes progress: ${what}`, () => tally.ops >= target || stopping);
    };
    try {
      await progress('at start');
      // kill -9 one replica, then start it again where nginx expects it.
      await replicas[1]!.kill();
      await progress('one replica killed');
      await start(1);
      await progress('the replica back');
      // PostgreSQL restarts (an immediate stop: every connection cut, crash recovery on start).
      await pg.crash();
      await pg.start();
      await progress('PostgreSQL back');
      // A rolling restart.
      for (let i = 0; i < replicas.length; i++) {
        assert.equal(await replicas[i]!.stop(), 0, `replica ${i} stops cleanly`);
        await start(i);
        await progress(`replica ${i} restarted`);
      }
    } finally {
      stopping = true;
      await load;
    }

    // No acknowledged write lost: each replica shows every one, once the change reached it (notified, or by the poll).
    for (const r of replicas) {
      const admin = await r!.admin();
      const missing = async () => {
        const stored = await admin('GET', `/domain/sports/role/${role}`);
        const members = new Set(((stored.body as { roleMembers?: { memberName: string }[] }).roleMembers ?? []).map((m) => m.memberName));
        return acknowledged.filter((m) => !members.has(m));
      };
      const deadline = Date.now() + PROPAGATION_BOUND_MS;
      let left = await missing();
      while (left.length > 0 && Date.now() < deadline) left = await missing();
      assert.deepEqual(left, [], `every acknowledged member is stored (${acknowledged.length})`);
    }
    assert.ok(tally.retried > 0, 'the disruptions did refuse some requests (then retried)');
    console.log(`${label}: ${tally.ops} requests acknowledged, ${tally.retried} after a retry, ${acknowledged.length} members`);

    // A revocation: once acknowledged, no replica issues a certificate for it past the bound.
    const victim = workloads[0];
    const serial = parseCertificate(victim.current!.cert).serialHex;
    const roleCsr = await createCsr({
      keyPem: victim.keyPem,
      subject: { commonName: 'sports:role.readers', organizationalUnit: PROVIDER },
      uris: ['spiffe://sports/ra/readers', `athenz://instanceid/${PROVIDER}/${victim.taskId}`, 'athenz://principal/sports.api'],
    });
    for (const p of ports) {
      const before = await ztsAt(p.zts)('POST', '/rolecert', { csr: roleCsr }, victim.current);
      assert.equal(before.status, 200, `a role certificate before the revocation: ${before.text}`);
    }
    const revoked = await zms('DELETE', `/domain/sports/service/api/instance/${PROVIDER}/${victim.taskId}`);
    assert.equal(revoked.status, 204, revoked.text);
    const acked = Date.now();
    for (const p of ports) {
      const zts = ztsAt(p.zts);
      const { csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId: victim.taskId, keyPem: victim.keyPem });
      const again = await zts('POST', `/instance/${PROVIDER}/sports/api/${victim.taskId}`, { csr, attestationData: attestation('sports.api', victim.creds) }, victim.current);
      assert.notEqual(again.status, 200, `replica on ${p.zts} refreshed a revoked instance`);
      // Role certificates rest on the in-memory revoked set: refused by the bound, and from then on.
      let refusedAt = 0;
      while (!refusedAt) {
        const r = await zts('POST', '/rolecert', { csr: roleCsr }, victim.current);
        if (r.status !== 200) refusedAt = Date.now();
        else assert.ok(Date.now() - acked <= PROPAGATION_BOUND_MS, `replica on ${p.zts} still issues for revoked serial ${serial} ${Date.now() - acked} ms after the revocation`);
      }
      for (let i = 0; i < 3; i++) assert.notEqual((await zts('POST', '/rolecert', { csr: roleCsr }, victim.current)).status, 200, 'and keeps refusing');
    }
  } finally {
    for (const r of replicas) await r?.stop();
  }
}

before(async () => {
  need('/usr/sbin/nginx', 'nginx');
  need(NGINX_STREAM, 'nginx\'s stream module (libnginx-mod-stream)');
  dir = mkdtempSync(join(tmpdir(), 'tessera-scale-out-'));
  sim = await startAwsSim();
  pg = await startTestPostgres({ durable: true });
  for (let i = 0; i < 3; i++) ports.push({ zms: await freePort(), zts: await freePort() });
  lb = { zms: await freePort(), zts: await freePort() };
  // The first start creates the CA and the server certificate nginx presents for ZMS.
  const first = await startServeProcess(join(dir, 'data'), ['--db', pg.url, '--aws-sts-endpoint', sim.url, '--server-names', 'localhost'], {}, ports[0]);
  await first.stop();
  ca = readFileSync(join(dir, 'data', 'ca.cert.pem'), 'utf8');
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig());
  const n = daemon('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')]);
  nginx = n.child;
  await listening(lb.zms, 'nginx', n);
  await listening(lb.zts, 'nginx', n);
});

after(async () => {
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise((r) => nginx.once('exit', r));
    nginx.kill('SIGTERM');
    await exited;
  }
  await pg?.stop();
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('three replicas behind nginx on one PostgreSQL', () => {
  test('kill -9, PostgreSQL restart, rolling restart under load: nothing acknowledged lost, every failure retried, revocation bites', async () => {
    await scenario('direct', pg.url, []);
  });

  test('the same through pgbouncer in transaction mode (no notifications: the poll carries every change)', async () => {
    const bouncer = await startPgbouncer();
    try {
      // LISTEN cannot go through a transaction pooler (docs/store.md): as documented, it is switched off.
      await scenario('pgbouncer', bouncer.url, ['--db-listen', 'off']);
    } finally {
      await bouncer.stop();
    }
  });
});
