/**
 * siad's SPIFFE Workload API and Envoy SDS on its Unix socket, driven by
 * clients generated from the .proto files (written from the published ones):
 * Python's grpcio (Debian's python3-grpcio and python3-grpc-tools, stubs
 * generated at test time) and @grpc/grpc-js. One daemon (a simulated Fargate task, a real tessera server)
 * serves every test; its certificates rotate every 1.8 s.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { startTestServer, type TestServer } from '@tessera/server/test/support/test-server';
import { ACCOUNT, setUpSports } from '@tessera/server/test/support/cert-flow';
import { freePort } from '@tessera/core/free-port';

const ROOT = new URL('..', import.meta.url).pathname;
const SIAD = join(ROOT, 'packages/sia/bin/siad.js');
const PROTO_DIR = join(ROOT, 'packages/sia/proto');
const PYTHON = '/usr/bin/python3';
const SPIFFE_ID = 'spiffe://sports/sa/api';

let sim: AwsSim;
let t: TestServer;
let dir: string;
let socket: string;
let healthPort: number;
let daemon: ChildProcess;
let log = '';

interface Svid {
  spiffe_id: string;
  x509_svid: Buffer;
  x509_svid_key: Buffer;
  bundle: Buffer;
}

/** Waits until `re` has matched `count` times in siad's log. */
async function waitForLog(re: RegExp, count = 1, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const g = new RegExp(re.source, 'g');
  while ((log.match(g)?.length ?? 0) < count) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} x${count}:\n${log}`);
    if (daemon.exitCode !== null) throw new Error(`siad exited:\n${log}`);
    await new Promise((r) => daemon.stderr!.once('data', r));
  }
}

/** The X509-SVID profile (SPIFFE X509-SVID standard): one URI SAN, the SPIFFE ID; not a CA; digitalSignature; the key matches; the bundle signed it. */
function checkSvidProfile(s: Svid): X509Certificate {
  assert.equal(s.spiffe_id, SPIFFE_ID);
  const leaf = new X509Certificate(s.x509_svid);
  assert.equal(leaf.subjectAltName, `URI:${SPIFFE_ID}`, 'exactly one SAN: the SPIFFE ID');
  assert.equal(leaf.ca, false);
  const ext = execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-ext', 'keyUsage,basicConstraints'], { input: s.x509_svid, encoding: 'utf8' });
  assert.match(ext, /Digital Signature/);
  assert.doesNotMatch(ext, /Certificate Sign|CRL Sign/);
  assert.match(ext, /CA:FALSE/);
  assert.ok(leaf.checkPrivateKey(createPrivateKey({ key: s.x509_svid_key, format: 'der', type: 'pkcs8' })), 'x509_svid_key is the PKCS#8 key of the SVID');
  assert.ok(leaf.verify(new X509Certificate(s.bundle).publicKey), 'the bundle holds the CA that signed it');
  return leaf;
}

function grpcClient() {
  const defs = loadSync(join(PROTO_DIR, 'workload.proto'), { keepCase: true, defaults: true });
  const Api = grpc.loadPackageDefinition(defs).SpiffeWorkloadAPI as grpc.ServiceClientConstructor;
  return new Api(`unix://${socket}`, grpc.credentials.createInsecure());
}

const header = () => {
  const m = new grpc.Metadata();
  m.set('workload.spiffe.io', 'true');
  return m;
};

/** Runs the Python client; resolves with its JSON lines once it has printed `lines` of them. */
function python(args: string[], lines: number): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [join(ROOT, 'e2e/support/workload_api_client.py'), socket, PROTO_DIR, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => reject(new Error(`cannot run ${PYTHON}: ${e.message}; install python3-grpcio and python3-grpc-tools (scripts/setup.sh)`)));
    child.on('close', (code) => {
      const parsed = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      if (code !== 0 || parsed.length < lines) return reject(new Error(`python client exited ${code}:\n${out}\n${err}`));
      resolve(parsed);
    });
  });
}

before(async () => {
  try {
    execFileSync(PYTHON, ['-c', 'import grpc, grpc_tools']);
  } catch {
    throw new Error(`${PYTHON} cannot import grpc and grpc_tools: install Debian's python3-grpcio and python3-grpc-tools (scripts/setup.sh does)`);
  }
  dir = mkdtempSync(join(tmpdir(), 'tessera-siad-socket-'));
  sim = await startAwsSim({ filesDir: join(dir, 'sim') });
  t = await startTestServer('sqlite', { awsStsEndpoint: sim.url });
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, t.ca);
  await setUpSports(t, sim);
  const task = await sim.launchFargateTask({ taskRole: 'sports.api-service', account: ACCOUNT, cluster: 'prod' });
  socket = join(dir, 'shared', 'siad.sock');
  healthPort = await freePort();
  const config = join(dir, 'sia_config');
  // refresh_interval in minutes: 0.03 = 1.8 s, so that a rotation comes soon.
  writeFileSync(config, JSON.stringify({
    service: 'api', refresh_interval: 0.03, http_port: healthPort,
    accounts: [{ domain: 'sports', account: ACCOUNT, roles: { 'sports:role.readers': {} } }],
  }));
  const port = new URL(t.server.ztsUrl).port;
  daemon = spawn(process.execPath, [SIAD, '-zts', 'localhost', '-ztsport', port, '-ztscacert', caFile, '-dnsdomains', 'aws.athenz.cloud',
    '-providerprefix', 'athenz.aws', '-siadir', join(dir, 'siad'), '-config', config], {
    env: { ...task.env, SPIFFE_ENDPOINT_SOCKET: `unix://${socket}` },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  daemon.stderr!.on('data', (d) => (log += d));
  await waitForLog(/X509-SVID spiffe:\/\/sports\/sa\/api: valid until/);
});

after(async () => {
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((r) => daemon.once('exit', r));
    daemon.kill('SIGTERM');
    await exited;
  }
  await t?.close();
  await sim?.close();
  if (process.env.SIAD_TEST_SHOW) console.log(log);
  rmSync(dir, { recursive: true, force: true });
});

test('the socket is owner-only, named by SPIFFE_ENDPOINT_SOCKET; the files keep the Athenz certificate', () => {
  const st = statSync(socket);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o600);
  const files = new X509Certificate(readFileSync(join(dir, 'siad', 'certs', 'sports.api.cert.pem')));
  assert.match(files.subjectAltName ?? '', /URI:spiffe:\/\/sports\/sa\/api, URI:athenz:\/\/instanceid\//, 'two URIs, as Athenz');
});

test('grpc-js: FetchX509SVID sends the SVID at once, then a new one after a rotation; FetchX509Bundles the trust bundle', async () => {
  const client = grpcClient();
  try {
    const stream = client.FetchX509SVID({}, header()) as grpc.ClientReadableStream<{ svids: Svid[] }>;
    const got: { svids: Svid[] }[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (m: { svids: Svid[] }) => {
        got.push(m);
        if (got.length === 2) resolve();
      });
      stream.on('error', reject);
    });
    stream.cancel();
    const [first, second] = got.map((m) => {
      assert.equal(m.svids.length, 1);
      return checkSvidProfile(m.svids[0]);
    });
    assert.notEqual(first.serialNumber, second.serialNumber, 'the second message is a new certificate');

    const bundles = client.FetchX509Bundles({}, header()) as grpc.ClientReadableStream<{ bundles: Record<string, Buffer> }>;
    const b = await new Promise<{ bundles: Record<string, Buffer> }>((resolve, reject) => {
      bundles.once('data', resolve);
      bundles.on('error', reject);
    });
    bundles.cancel();
    assert.deepEqual(Object.keys(b.bundles), ['spiffe://sports']);
    assert.equal(new X509Certificate(b.bundles['spiffe://sports']).fingerprint256, new X509Certificate(t.ca).fingerprint256);
  } finally {
    client.close();
  }
});

test('grpc-js: a call without the workload.spiffe.io header is refused with INVALID_ARGUMENT', async () => {
  const client = grpcClient();
  try {
    const stream = client.FetchX509SVID({}) as grpc.ClientReadableStream<unknown>;
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      stream.on('error', resolve);
      stream.on('data', () => resolve(Object.assign(new Error('answered'), { code: grpc.status.OK }) as grpc.ServiceError));
    });
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /security header missing from request/);
    const jwt = await new Promise<grpc.ServiceError | null>((resolve) => client.FetchJWTSVID({ audience: ['x'] }, (e: grpc.ServiceError | null) => resolve(e)));
    assert.equal(jwt?.code, grpc.status.INVALID_ARGUMENT);
  } finally {
    client.close();
  }
});

test('grpc-js: FetchJWTSVID from ZTS (sub the SPIFFE ID, aud as asked), verified with FetchJWTBundles\' keys; ValidateJWTSVID accepts it and refuses another audience', async () => {
  const client = grpcClient();
  const unary = <T>(method: string, req: unknown) =>
    new Promise<{ err: grpc.ServiceError | null; res?: T }>((resolve) => client[method](req, header(), (err: grpc.ServiceError | null, res?: T) => resolve({ err, res })));
  try {
    const got = await unary<{ svids: { spiffe_id: string; svid: string }[] }>('FetchJWTSVID', { audience: ['sports-web', 'other'] });
    assert.equal(got.err, null, got.err?.details);
    const { spiffe_id, svid } = got.res!.svids[0];
    assert.equal(spiffe_id, SPIFFE_ID);
    const stream = client.FetchJWTBundles({}, header()) as grpc.ClientReadableStream<{ bundles: Record<string, Buffer> }>;
    const bundles = await new Promise<Record<string, Buffer>>((resolve, reject) => {
      stream.once('data', (m: { bundles: Record<string, Buffer> }) => resolve(m.bundles));
      stream.on('error', reject);
    });
    stream.cancel();
    assert.deepEqual(Object.keys(bundles), ['spiffe://sports']);
    const jwks = JSON.parse(bundles['spiffe://sports'].toString()) as JSONWebKeySet;
    const { payload } = await jwtVerify(svid, createLocalJWKSet(jwks), { audience: 'sports-web' });
    assert.equal(payload.sub, SPIFFE_ID);
    assert.deepEqual(payload.aud, ['sports-web', 'other']);
    assert.ok((payload.exp as number) - (payload.iat as number) <= 300, 'short-lived');

    const ok = await unary<{ spiffe_id: string; claims: { fields: Record<string, { stringValue?: string }> } }>('ValidateJWTSVID', { audience: 'other', svid });
    assert.equal(ok.err, null, ok.err?.details);
    assert.equal(ok.res!.spiffe_id, SPIFFE_ID);
    assert.equal(ok.res!.claims.fields.sub.stringValue, SPIFFE_ID, JSON.stringify(ok.res));
    const wrongAud = await unary('ValidateJWTSVID', { audience: 'elsewhere', svid });
    assert.equal(wrongAud.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(wrongAud.err!.details, /invalid JWT-SVID/);
    const noAud = await unary('FetchJWTSVID', { audience: [] });
    assert.equal(noAud.err?.code, grpc.status.INVALID_ARGUMENT);
    const other = await unary('FetchJWTSVID', { audience: ['x'], spiffe_id: 'spiffe://sports/sa/web' });
    assert.equal(other.err?.code, grpc.status.PERMISSION_DENIED);
  } finally {
    client.close();
  }
});

test('Python grpcio: two X509-SVIDs across a rotation, the bundle, a JWT-SVID validated, and the refusal without the header', async () => {
  const msgs = await python(['svids', '2'], 2);
  const leaves = msgs.map((m) => {
    const s = (m.svids as Record<string, string>[])[0];
    return checkSvidProfile({
      spiffe_id: s.spiffe_id,
      x509_svid: Buffer.from(s.x509_svid, 'base64'),
      x509_svid_key: Buffer.from(s.x509_svid_key, 'base64'),
      bundle: Buffer.from(s.bundle, 'base64'),
    });
  });
  assert.notEqual(leaves[0].serialNumber, leaves[1].serialNumber);
  const [bundles] = await python(['bundles'], 1);
  assert.deepEqual(Object.keys(bundles.bundles as object), ['spiffe://sports']);
  const [jwt] = await python(['jwt', 'sports-web'], 1);
  assert.equal(jwt.spiffe_id, SPIFFE_ID);
  assert.equal(jwt.validated, SPIFFE_ID);
  assert.equal((jwt.claims as Record<string, unknown>).sub, SPIFFE_ID, 'the claims Struct decodes in Python');
  assert.deepEqual((jwt.claims as Record<string, unknown>).aud, ['sports-web']);
  const [refused] = await python(['no-header'], 1);
  assert.equal(refused.code, 'INVALID_ARGUMENT');
  assert.match(String(refused.details), /security header missing/);
});

test('clients that go away mid-stream cost nothing: siad drops them, stays healthy and serves the next client', async () => {
  // Two Python clients killed (SIGKILL: no goodbye) once they have their first SVID, and a grpc-js stream cancelled.
  const killed = await Promise.all([0, 1].map(() => new Promise<ChildProcess>((resolve, reject) => {
    const child = spawn(PYTHON, [join(ROOT, 'e2e/support/workload_api_client.py'), socket, PROTO_DIR, 'svids', '1000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.once('data', () => resolve(child));
    child.on('error', reject);
  })));
  const client = grpcClient();
  const cancelled = client.FetchX509SVID({}, header()) as grpc.ClientReadableStream<unknown>;
  await new Promise((resolve) => cancelled.once('data', resolve));
  cancelled.on('error', () => undefined);
  await Promise.all(killed.map((c) => new Promise((resolve) => {
    c.once('exit', resolve);
    c.kill('SIGKILL');
  })));
  cancelled.cancel();
  client.close();
  // The next rotations tell nobody: all three streams were dropped.
  await waitForLog(/; 0 stream\(s\) told/, (log.match(/; 0 stream\(s\) told/g)?.length ?? 0) + 1);
  assert.equal((await fetch(`http://127.0.0.1:${healthPort}/status`)).status, 200);
  assert.equal(daemon.exitCode, null);
  const next = grpcClient();
  try {
    const s = next.FetchX509SVID({}, header()) as grpc.ClientReadableStream<{ svids: Svid[] }>;
    const m = await new Promise<{ svids: Svid[] }>((resolve, reject) => {
      s.once('data', resolve);
      s.on('error', reject);
    });
    s.cancel();
    checkSvidProfile(m.svids[0]);
  } finally {
    next.close();
  }
  assert.doesNotMatch(log, /PRIVATE KEY/);
});

// --- Envoy SDS ---

const SECRET_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

interface DataSource { inline_bytes?: Buffer }
interface Secret {
  name: string;
  tls_certificate?: { certificate_chain: DataSource; private_key: DataSource };
  validation_context?: { trusted_ca: DataSource };
}
interface DiscoveryResponse { version_info: string; resources: { type_url: string; value: Buffer }[]; nonce: string }

function sdsClient() {
  const defs = grpc.loadPackageDefinition(loadSync('envoy/sds.proto', { keepCase: true, defaults: true, oneofs: true, includeDirs: [PROTO_DIR] }));
  const Sds = (((defs.envoy as grpc.GrpcObject).service as grpc.GrpcObject).secret as grpc.GrpcObject).v3 as grpc.GrpcObject;
  const root = new protobuf.Root();
  root.resolvePath = (_o, target) => (target.startsWith('google/protobuf/') ? target : join(PROTO_DIR, target));
  root.loadSync('envoy/secret.proto', { keepCase: true });
  const type = root.lookupType('envoy.extensions.transport_sockets.tls.v3.Secret');
  const client = new (Sds.SecretDiscoveryService as grpc.ServiceClientConstructor)(`unix://${socket}`, grpc.credentials.createInsecure());
  const decode = (r: DiscoveryResponse) => r.resources.map((a) => {
    assert.equal(a.type_url, SECRET_TYPE);
    return type.toObject(type.decode(a.value), { keepCase: true } as protobuf.IConversionOptions) as Secret;
  });
  return { client, decode };
}

const filesCert = () => readFileSync(join(dir, 'siad', 'certs', 'sports.api.cert.pem'), 'utf8');
const NAMES = ['default', SPIFFE_ID, 'ROOTCA', 'sports:role.readers'];

test('SDS StreamSecrets (grpc-js): the Athenz certificate by SPIFFE ID and default, ROOTCA, the role certificate; a new version on rotation; a NACK is logged, not resent', async () => {
  const { client, decode } = sdsClient();
  const stream = client.StreamSecrets() as grpc.ClientDuplexStream<unknown, DiscoveryResponse>;
  const queue: DiscoveryResponse[] = [];
  let wake: (() => void) | undefined;
  stream.on('data', (r: DiscoveryResponse) => {
    queue.push(r);
    wake?.();
  });
  stream.on('error', () => undefined);
  const next = async (): Promise<DiscoveryResponse> => {
    const deadline = Date.now() + 30_000;
    while (queue.length === 0) {
      assert.ok(Date.now() < deadline, `no SDS response:\n${log}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 500);
      });
    }
    return queue.shift()!;
  };
  const ask = (extra: Record<string, unknown> = {}) =>
    stream.write({ node: { id: 'envoy-test', cluster: 'sidecar' }, resource_names: NAMES, type_url: SECRET_TYPE, ...extra });
  try {
    ask();
    const first = await next();
    const secrets = decode(first);
    assert.deepEqual(secrets.map((x) => x.name), NAMES);
    const [byDefault, byId, rootCa, role] = secrets;
    const cert = byDefault.tls_certificate!.certificate_chain.inline_bytes!.toString();
    assert.match(new X509Certificate(cert).subjectAltName ?? '', /URI:spiffe:\/\/sports\/sa\/api, URI:athenz:\/\/instanceid\//, 'the Athenz certificate, unchanged');
    assert.match(byDefault.tls_certificate!.private_key.inline_bytes!.toString(), /PRIVATE KEY/);
    assert.equal(byId.tls_certificate!.certificate_chain.inline_bytes!.toString(), cert, 'the SPIFFE ID names the same secret');
    assert.equal(rootCa.validation_context!.trusted_ca.inline_bytes!.toString().trim(), t.ca.trim());
    assert.match(new X509Certificate(role.tls_certificate!.certificate_chain.inline_bytes!).subject, /CN=sports:role\.readers/);

    // ACK; the next rotation brings a new version with a new certificate.
    ask({ version_info: first.version_info, response_nonce: first.nonce });
    let second = await next();
    while (decode(second)[0].tls_certificate!.certificate_chain.inline_bytes!.toString() === cert) {
      ask({ version_info: second.version_info, response_nonce: second.nonce });
      second = await next();
    }
    assert.ok(Number(second.version_info) > Number(first.version_info));

    // A NACK: logged, and the rejected secrets are not sent again; the next answer carries new ones.
    queue.length = 0;
    ask({ version_info: first.version_info, response_nonce: second.nonce, error_detail: { code: 3, message: 'test: secret rejected' } });
    await waitForLog(/SDS: Envoy envoy-test \(sidecar\) rejected version .*: test: secret rejected; not resent until the next rotation/);
    const third = await next();
    assert.ok(Number(third.version_info) > Number(second.version_info));
    const bytes = (r: DiscoveryResponse) => r.resources.map((x) => x.value.toString('base64')).join();
    assert.notEqual(bytes(third), bytes(second), 'not a resend of what Envoy rejected');
  } finally {
    stream.cancel();
    client.close();
  }
});

test('SDS FetchSecrets (Python grpcio): both names of the service certificate, ROOTCA; an unknown name is left out', async () => {
  const [res] = await python(['sds', 'default', SPIFFE_ID, 'ROOTCA', 'nosuch'], 1);
  const secrets = res.secrets as { type_url: string; name: string; cert?: string; key_is_pem?: boolean; trusted_ca?: string }[];
  assert.deepEqual(secrets.map((x) => x.name), ['default', SPIFFE_ID, 'ROOTCA']);
  for (const x of secrets) assert.equal(x.type_url, SECRET_TYPE);
  assert.equal(secrets[0].cert, secrets[1].cert);
  assert.ok(secrets[0].key_is_pem);
  // The files and SDS agree (the cert may have rotated in between: compare the identity, not the serial).
  assert.equal(new X509Certificate(secrets[0].cert!).subjectAltName, new X509Certificate(filesCert()).subjectAltName);
  assert.equal(secrets[2].trusted_ca!.trim(), t.ca.trim());
  await waitForLog(/SDS: Envoy python-envoy \(test\) asked for "nosuch", which siad does not have/);
});
