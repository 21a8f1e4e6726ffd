/**
 * Property over the JSON bodies of every ZMS write route: whatever the body
 * (random JSON, or a valid body with one field replaced by something hostile),
 * the answer is never a 5xx, comes in time, is in Athenz's error shape when
 * refused, and a refused request writes nothing. Used by the bounded CI test
 * (zms-body-fuzz.test.ts) and the long run (scripts/fuzz-zms-bodies.ts).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bodyFor } from './hostile-json.ts';
import type { TestServer } from './test-server.ts';

export const FUZZ_DOMAIN = 'fuzz';

/** Valid bodies of every write route; the fuzzer starts from these. */
export const WRITE_ROUTES: { method: string; path: string; body: Record<string, unknown> }[] = [
  { method: 'POST', path: '/domain', body: { name: 'fuzzed', adminUsers: ['user.admin'], description: 'd', templates: { templateNames: [] } } },
  { method: 'POST', path: `/subdomain/${FUZZ_DOMAIN}`, body: { name: 'sub', parent: FUZZ_DOMAIN, adminUsers: ['user.admin'] } },
  { method: 'POST', path: '/userdomain/admin', body: { name: 'admin' } },
  { method: 'PUT', path: `/domain/${FUZZ_DOMAIN}/meta`, body: { description: 'd', memberExpiryDays: 10, serviceCertExpiryMins: 60, signAlgorithm: 'ec' } },
  { method: 'PUT', path: `/domain/${FUZZ_DOMAIN}/meta/system/account`, body: { account: '123456789012' } },
  { method: 'PUT', path: `/domain/${FUZZ_DOMAIN}/meta/system/productid`, body: { ypmId: 5, productId: 'p' } },
  { method: 'PUT', path: `/domain/${FUZZ_DOMAIN}/meta/system/org`, body: { org: 'org' } },
  { method: 'PUT', path: `/domain/${FUZZ_DOMAIN}/role/readers`, body: { name: `${FUZZ_DOMAIN}:role.readers`, roleMembers: [{ memberName: 'user.jane', expiration: '2031-01-01T00:00:00.000Z' }], trust: '' } },
  { method: 'PUT', path: `/domain/${FUZZ_DOMAIN}/role/readers/member/user.bob`, body: { memberName: 'user.bob', expiration: '2031-01-01T00:00:00.000Z' } },
  { method: 'PUT', path: `/domain/${FUZZ_DOMAIN}/policy/readers`, body: { name: `${FUZZ_DOMAIN}:policy.readers`, assertions: [{ role: `${FUZZ_DOMAIN}:role.readers`, resource: `${FUZZ_DOMAIN}:data`, action: 'read', effect: 'ALLOW' }] } },
  { method: 'PUT', path: `/domain/${FUZZ_DOMAIN}/policy/readers/assertion`, body: { role: `${FUZZ_DOMAIN}:role.readers`, resource: `${FUZZ_DOMAIN}:x`, action: 'write' } },
  { method: 'PUT', path: `/domain/${FUZZ_DOMAIN}/service/api`, body: { name: `${FUZZ_DOMAIN}.api`, description: 'd', publicKeys: [] } },
  { method: 'PUT', path: `/domain/${FUZZ_DOMAIN}/service/api/publickey/k1`, body: { id: 'k1', key: 'bm90LWEta2V5' } },
  { method: 'PUT', path: `/domain/${FUZZ_DOMAIN}/service/api/meta/system/providerendpoint`, body: { providerEndpoint: 'https://p.example.com/' } },
  { method: 'PUT', path: `/domain/${FUZZ_DOMAIN}/template`, body: { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] } },
  { method: 'PUT', path: `/domain/${FUZZ_DOMAIN}/template/zts_instance_launch_provider`, body: { templateNames: ['zts_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] } },
  { method: 'PUT', path: '/user/fuzzer/password', body: { password: 'fuzzer-password' } },
  { method: 'POST', path: '/session', body: { user: 'admin', password: 'wrong-password' } },
];

/** Everything a write could change, less what differs on every read (ECDSA signatures). */
async function snapshot(t: TestServer): Promise<string> {
  const names = await t.admin.call<{ names: string[] }>('GET', '/domain');
  const signed = await t.admin.call<{ payload: string }>('GET', `/domain/${FUZZ_DOMAIN}/signed`);
  const data = JSON.parse(Buffer.from(signed.body.payload, 'base64url').toString()) as { policies: { signature?: string } };
  delete data.policies.signature;
  return JSON.stringify([names.body.names, data]);
}

export async function setUpFuzzDomain(t: TestServer): Promise<void> {
  for (const [m, p, b] of [
    ['POST', '/domain', { name: FUZZ_DOMAIN, adminUsers: ['user.admin'] }],
    ['PUT', `/domain/${FUZZ_DOMAIN}/role/readers`, { name: `${FUZZ_DOMAIN}:role.readers` }],
    ['PUT', `/domain/${FUZZ_DOMAIN}/policy/readers`, { name: `${FUZZ_DOMAIN}:policy.readers`, assertions: [] }],
    ['PUT', `/domain/${FUZZ_DOMAIN}/service/api`, { name: `${FUZZ_DOMAIN}.api` }],
  ] as const) {
    const r = await t.admin.call(m, p, b);
    assert.ok(r.status < 300, `${m} ${p}: ${r.status} ${r.text}`);
  }
}

/** Runs the property `numRuns` times per write route. */
export async function fuzzWriteBodies(t: TestServer, numRuns: number, seed?: number): Promise<void> {
  for (const route of WRITE_ROUTES) {
    await fc.assert(
      fc.asyncProperty(bodyFor(route.body, ['extra', 'roleMembers', 'assertions', 'publicKeys', 'templates']), async (body) => {
        const before = await snapshot(t);
        const started = Date.now();
        const res = await t.admin.call<{ code?: unknown; message?: unknown }>(route.method, route.path, JSON.stringify(body), { 'content-type': 'application/json' });
        const what = `${route.method} ${route.path} ${JSON.stringify(body).slice(0, 300)} → ${res.status} ${res.text.slice(0, 300)}`;
        assert.ok(res.status < 500, what);
        assert.ok(Date.now() - started < 30_000, `${what}: too slow`);
        if (res.status >= 400) {
          assert.equal(res.body.code, res.status, what);
          assert.equal(typeof res.body.message, 'string', what);
          assert.equal(await snapshot(t), before, `${what}: a refused request changed data`);
        }
      }),
      { numRuns, ...(seed === undefined ? {} : { seed }) },
    );
  }
}
