/**
 * Every list maximum of the ZMS schemas is accepted, stored and read back on
 * SQLite and PostgreSQL — a role of 10,000 members needs 60,000 bound values,
 * more than either store takes in one statement — and one item more is a 400
 * naming the field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { ybase64Encode } from '@tessera/core/ybase64';
import { BACKENDS, startTestServer, type TestServer } from './support/test-server.ts';

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const publicKey = ybase64Encode(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString());

for (const backend of BACKENDS) {
  describe(`schema maximums on ${backend}`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
    });
    after(() => t?.close());

    test('a domain with 100 admin users (adminUsers maxItems)', async () => {
      const admins = ['user.admin', ...names('user.admin', 99)];
      const r = await t.admin.call('POST', '/domain', { name: 'big', adminUsers: admins });
      assert.equal(r.status, 200, r.text);
      const role = await t.admin.call<{ roleMembers: unknown[] }>('GET', '/domain/big/role/admin');
      assert.equal(role.body.roleMembers.length, 100);
      const over = await t.admin.call<{ message: string }>('POST', '/domain', { name: 'bigger', adminUsers: [...admins, 'user.one-more'] });
      assert.equal(over.status, 400);
      assert.match(over.body.message, /Invalid body field adminUsers: at most 100 entries/);
    });

    test('a role with 10,000 members, as roleMembers and as members; 10,001 is a 400', async () => {
      const members = names('user.m', 10_000);
      const put = await t.admin.call('PUT', '/domain/big/role/crowd', { name: 'big:role.crowd', roleMembers: members.map((memberName) => ({ memberName })) });
      assert.equal(put.status, 204, put.text);
      const got = await t.admin.call<{ roleMembers: { memberName: string }[] }>('GET', '/domain/big/role/crowd');
      assert.equal(got.status, 200);
      assert.deepEqual(got.body.roleMembers.map((m) => m.memberName).sort(), [...members].sort());

      const legacy = await t.admin.call('PUT', '/domain/big/role/crowd2', { name: 'big:role.crowd2', members: names('user.n', 10_000) });
      assert.equal(legacy.status, 204, legacy.text);
      assert.equal((await t.admin.call<{ roleMembers: unknown[] }>('GET', '/domain/big/role/crowd2')).body.roleMembers.length, 10_000);

      const over = await t.admin.call<{ message: string }>('PUT', '/domain/big/role/crowd3', { name: 'big:role.crowd3', roleMembers: names('user.o', 10_001).map((memberName) => ({ memberName })) });
      assert.equal(over.status, 400);
      assert.match(over.body.message, /Invalid body field roleMembers: at most 10000 entries/);
    });

    test('a policy with 10,000 assertions', async () => {
      const assertions = names('r', 10_000).map((r) => ({ role: `big:role.${r}`, resource: `big:${r}`, action: 'read' }));
      const put = await t.admin.call('PUT', '/domain/big/policy/many', { name: 'big:policy.many', assertions });
      assert.equal(put.status, 204, put.text);
      const got = await t.admin.call<{ assertions: { role: string }[] }>('GET', '/domain/big/policy/many');
      assert.equal(got.body.assertions.length, 10_000);
      assert.equal(new Set(got.body.assertions.map((a) => a.role)).size, 10_000);
    });

    test('a service with 100 public keys and 1,000 hosts', async () => {
      const publicKeys = names('k', 100).map((id) => ({ id, key: publicKey }));
      const put = await t.admin.call('PUT', '/domain/big/service/api', { name: 'big.api', publicKeys, hosts: names('host', 1000).map((h) => `${h}.example.com`) });
      assert.equal(put.status, 204, put.text);
      const got = await t.admin.call<{ publicKeys: unknown[] }>('GET', '/domain/big/service/api');
      assert.equal(got.body.publicKeys.length, 100);
    });

    test('the signed domain still carries all of it', async () => {
      const signed = await t.admin.call<{ payload: string }>('GET', '/domain/big/signed');
      assert.equal(signed.status, 200);
      const data = JSON.parse(Buffer.from(signed.body.payload, 'base64url').toString()) as { roles: { name: string; roleMembers?: unknown[] }[] };
      assert.equal(data.roles.find((r) => r.name === 'big:role.crowd')?.roleMembers?.length, 10_000);
    });
  });
}
