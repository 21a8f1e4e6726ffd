/**
 * HTTP framing on both APIs: bodiless requests with any Content-Type, every
 * framework error in Athenz's shape with an integer code, and the OpenAPI documents.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { httpsJson } from '@tessera/core/https-client';
import { startTestServer, type TestServer } from './support/test-server.ts';

let t: TestServer;
before(async () => {
  t = await startTestServer('sqlite');
  assert.equal((await t.admin.call('POST', '/domain', { name: 'framing', adminUsers: ['user.admin'] })).status, 200);
});
after(() => t?.close());

const auth = () => ({ authorization: `Bearer ${t.admin.token}` });

test('DELETE, GET and HEAD without a body are accepted whatever their Content-Type (as Athenz clients send them)', async () => {
  assert.equal((await t.admin.call('PUT', '/domain/framing/role/readers', { name: 'framing:role.readers', roleMembers: [{ memberName: 'user.bob' }] })).status, 204);
  for (const contentType of ['application/json', 'text/plain', 'application/octet-stream']) {
    const get = await httpsJson({ url: `${t.url}/domain/framing/role/readers`, ca: t.ca, headers: { ...auth(), 'content-type': contentType } });
    assert.equal(get.status, 200, `GET with ${contentType}: ${get.text}`);
  }
  const del = await httpsJson({ method: 'DELETE', url: `${t.url}/domain/framing/role/readers/member/user.bob`, ca: t.ca, headers: { ...auth(), 'content-type': 'application/json' } });
  assert.equal(del.status, 204, del.text);
  const role = await t.admin.call<{ roleMembers: unknown[] }>('GET', '/domain/framing/role/readers');
  assert.deepEqual(role.body.roleMembers, []);
  // ZTS: the same DELETE reaches the operation (which refuses the unauthenticated caller), not a body error.
  const ztsUrl = t.server.ztsUrl;
  const zts = await httpsJson<{ code: number; message: string }>({ method: 'DELETE', url: `${ztsUrl}/instance/athenz.aws.us-east-1/framing/api/i-1`, ca: t.ca, headers: { 'content-type': 'application/json' } });
  assert.notEqual(zts.status, 400, zts.text);
  assert.equal(typeof zts.body.code, 'number');
  assert.doesNotMatch(zts.body.message, /body/i);
  // A write still needs its body.
  const emptyPut = await httpsJson<{ code: number; message: string }>({ method: 'PUT', url: `${t.url}/domain/framing/meta`, ca: t.ca, headers: { ...auth(), 'content-type': 'application/json' } });
  assert.equal(emptyPut.status, 400);
  assert.match(emptyPut.body.message, /not valid JSON/);
});

test('framework errors come in Athenz shape with an integer code', async () => {
  const long = await t.admin.call<{ code: number; message: string }>('GET', `/domain/${'a'.repeat(1200)}`);
  assert.equal(long.status, 414);
  assert.deepEqual(long.body, { code: 414, message: 'A path parameter is too long (the limit is 1100 characters)' });

  const media = await t.admin.call<{ code: number; message: string }>('POST', '/domain', 'name=x', { 'content-type': 'text/plain' });
  assert.equal(media.status, 415);
  assert.deepEqual(media.body, { code: 415, message: 'Unsupported content type: send application/json' });

  const unknown = await t.admin.call<{ code: number; message: string }>('GET', '/no/such/thing');
  assert.deepEqual(unknown.body, { code: 404, message: 'No such endpoint: GET /zms/v1/no/such/thing' });

  const schema = await t.admin.call<{ code: number; message: string }>('PUT', '/domain/framing/meta', { memberExpiryDays: 'ten' });
  assert.deepEqual(schema.body, { code: 400, message: 'Invalid body field memberExpiryDays: must be a whole number' });
});

/** Sends raw bytes over TLS and returns everything the server wrote until it closed the connection. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(u.port), ca: t.ca, servername: 'localhost' }, () => socket.write(bytes));
    let out = '';
    socket.setTimeout(20_000, () => socket.destroy(new Error(`no close within 20 s; got: ${out.slice(0, 300)}`)));
    socket.on('data', (d: Buffer) => (out += d.toString()));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

/** The answers in a raw HTTP/1.1 stream: status and JSON body of each. */
function answers(stream: string): { status: number; body: unknown }[] {
  const out: { status: number; body: unknown }[] = [];
  let rest = stream;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    const head = rest.slice(0, end);
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    out.push({ status: Number(head.slice(9, 12)), body: length ? JSON.parse(rest.slice(end + 4, end + 4 + length)) : undefined });
    rest = rest.slice(end + 4 + length);
  }
  assert.equal(rest, '', `unparsed: ${rest.slice(0, 200)}`);
  return out;
}

test('refusals made by Node\'s HTTP layer carry Athenz\'s {code, message} on both ports', async () => {
  const big = 'a'.repeat(17 * 1024);
  for (const url of [t.url, t.server.ztsUrl]) {
    const noHost = answers(await rawExchange(url, 'GET /zms/v1/domain HTTP/1.1\r\n\r\n'));
    assert.deepEqual(noHost, [{ status: 400, body: { code: 400, message: 'Missing Host header: an HTTP/1.1 request must name the host it is for' } }]);
    const expect = answers(await rawExchange(url, 'GET /zms/v1/domain HTTP/1.1\r\nHost: localhost\r\nExpect: the-moon\r\n\r\n'));
    assert.deepEqual(expect, [{ status: 417, body: { code: 417, message: 'Expectation failed: the only Expect this server supports is "100-continue"' } }]);
    const header = answers(await rawExchange(url, `GET /zms/v1/domain HTTP/1.1\r\nHost: localhost\r\nX-Big: ${big}\r\n\r\n`));
    assert.deepEqual(header, [{ status: 431, body: { code: 431, message: 'Request headers too large' } }]);
  }
});

test('a 17 kB header pipelined behind a request still being answered gets its 431 after that answer', async () => {
  const ok = `GET /zms/v1/domain HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t.admin.token}\r\n\r\n`;
  const oversized = `GET /zms/v1/domain HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`;
  const got = answers(await rawExchange(t.url, ok + oversized));
  assert.deepEqual(got.map((a) => a.status), [200, 431], 'both answered, in order');
  assert.deepEqual(got[1].body, { code: 431, message: 'Request headers too large' });
});

test('an oversized body gets its 413 before the connection closes', async () => {
  const body = JSON.stringify({ description: 'x'.repeat(3 * 1024 * 1024) });
  const res = await new Promise<{ status: number; text: string; connection?: string }>((resolve, reject) => {
    const r = request(`${t.url}/domain/framing/meta`, { method: 'PUT', ca: t.ca, headers: { ...auth(), 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, connection: res.headers.connection }));
    });
    r.on('error', reject);
    r.end(body);
  });
  assert.equal(res.status, 413);
  assert.deepEqual(JSON.parse(res.text), { code: 413, message: 'Request body too large: the limit is 1048576 bytes' });
  assert.equal(res.connection, 'close');
});

test('the schemas are served as OpenAPI documents on both ports', async () => {
  const zms = await httpsJson<{ openapi: string; paths: Record<string, Record<string, { operationId: string }>> }>({ url: `${t.url}/openapi.json`, ca: t.ca });
  assert.equal(zms.status, 200);
  assert.match(zms.body.openapi, /^3\./);
  assert.equal(zms.body.paths['/zms/v1/domain/{domain}/role/{role}'].put.operationId, 'putRole');
  assert.equal(zms.body.paths['/zms/v1/domain/{domain}/policy/{policy}/assertion'].put.operationId, 'putAssertion');
  const zts = await httpsJson<{ paths: Record<string, Record<string, { operationId: string }>> }>({ url: `${t.server.ztsUrl}/openapi.json`, ca: t.ca });
  assert.equal(zts.status, 200);
  assert.equal(zts.body.paths['/zts/v1/instance'].post.operationId, 'postInstanceRegisterInformation');
});
