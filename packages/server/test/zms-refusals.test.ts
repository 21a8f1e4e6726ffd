/**
 * Refusals: every write by a caller without the right is 403 (and changes
 * nothing); no credentials is 401; bad names and bodies are 400 with a clear
 * message; a failed write leaves nothing behind. On SQLite and PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, startTestServer, type Client, type TestServer } from './support/test-server.ts';

type Call = [method: string, path: string, body?: unknown];

/** One call per ZMS write endpoint, each valid for an authorized caller. */
const WRITES: Call[] = [
  ['POST', '/domain', { name: 'intruder', adminUsers: ['user.mallory'] }],
  ['POST', '/subdomain/sports', { name: 'x', parent: 'sports', adminUsers: ['user.mallory'] }],
  ['DELETE', '/domain/sports'],
  ['DELETE', '/subdomain/sports/web'],
  ['PUT', '/domain/sports/meta', { description: 'hacked' }],
  ['PUT', '/domain/sports/meta/system/account', { account: '210987654321' }],
  ['PUT', '/domain/sports/meta/system/auditenabled', { auditEnabled: true }],
  ['PUT', '/domain/sports/service/api', { name: 'sports.api', description: 'hacked' }],
  ['DELETE', '/domain/sports/service/api'],
  ['PUT', '/domain/sports/service/api/publickey/9', { id: '9', key: 'x' }],
  ['DELETE', '/domain/sports/service/api/publickey/0'],
  ['PUT', '/domain/sports/service/api/meta/system/providerendpoint', { providerEndpoint: 'https://evil.example/' }],
  ['PUT', '/domain/sports/role/readers', { name: 'sports:role.readers', roleMembers: [{ memberName: 'user.mallory' }] }],
  ['DELETE', '/domain/sports/role/readers'],
  ['PUT', '/domain/sports/role/admin/member/user.mallory', { memberName: 'user.mallory' }],
  ['DELETE', '/domain/sports/role/readers/member/user.jane'],
  ['PUT', '/domain/sports/policy/readers', { name: 'sports:policy.readers', assertions: [] }],
  ['DELETE', '/domain/sports/policy/readers'],
  ['PUT', '/domain/sports/policy/readers/assertion', { role: 'sports:role.readers', action: '*', resource: 'sports:*' }],
  ['DELETE', '/domain/sports/policy/readers/assertion/1'],
  ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
  ['PUT', '/domain/sports/template/aws_instance_launch_provider', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
  ['DELETE', '/domain/sports/template/aws_instance_launch_provider'],
  ['PUT', '/user/jane/password', { password: 'taken-over-password' }],
];

for (const backend of BACKENDS) {
  describe(`ZMS refusals on ${backend}`, () => {
    let t: TestServer;
    let mallory: Client;
    let snapshot: () => Promise<string>;

    before(async () => {
      t = await startTestServer(backend);
      await t.user('jane');
      mallory = await t.user('mallory');
      const setup: Call[] = [
        ['POST', '/domain', { name: 'sports', adminUsers: ['user.admin'] }],
        ['POST', '/subdomain/sports', { name: 'web', parent: 'sports', adminUsers: ['user.admin'] }],
        ['PUT', '/domain/sports/meta/system/account', { account: '123456789012' }],
        ['PUT', '/domain/sports/service/api', { name: 'sports.api' }],
        ['PUT', '/domain/sports/role/readers', { name: 'readers', roleMembers: [{ memberName: 'user.jane' }] }],
        ['PUT', '/domain/sports/policy/readers', { name: 'readers', assertions: [{ role: 'readers', action: 'read', resource: 'sports:x' }] }],
        ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }],
      ];
      for (const [m, p, b] of setup) {
        const r = await t.admin.call(m, p, b);
        assert.ok(r.status < 300, `${m} ${p}: ${r.status} ${r.text}`);
      }
      snapshot = async () => {
        const d = await t.admin.call<{ modified: string }>('GET', '/domain/sports');
        const signed = await t.admin.call<{ payload: string }>('GET', '/domain/sports/signed');
        // The whole domain, less the policies' signature (ECDSA signatures differ on every signing).
        const data = JSON.parse(Buffer.from(signed.body.payload, 'base64url').toString()) as { policies: { signature?: string } };
        delete data.policies.signature;
        return `${d.body.modified}|${JSON.stringify(data)}`;
      };
    });
    after(() => t?.close());

    test('every write is 403 for a user without rights, and changes nothing', async () => {
      const before = await snapshot();
      for (const [method, path, body] of WRITES) {
        const r = await mallory.call<{ code: number; message: string }>(method, path, body);
        assert.equal(r.status, 403, `${method} ${path} → ${r.status} ${r.text}`);
        assert.equal(r.body.code, 403);
        assert.ok(r.body.message.length > 10, `${method} ${path} explains the refusal`);
      }
      assert.equal(await snapshot(), before);
      const forbiddenMessage = await mallory.call<{ message: string }>('PUT', '/domain/sports/service/api', { name: 'sports.api' });
      assert.match(forbiddenMessage.body.message, /needs update on sports:service\.api/);
    });

    test('every call without credentials, or with a bad token, is 401', async () => {
      for (const [method, path, body] of [...WRITES, ['GET', '/domain'], ['GET', '/domain/sports']] as Call[]) {
        const r = await t.anonymous.call(method, path, body);
        assert.equal(r.status, 401, `${method} ${path} → ${r.status}`);
      }
      const tampered = mallory.token.replace(/n=mallory/, 'n=admin');
      const r = await t.anonymous.call('GET', '/domain', undefined, { authorization: `Bearer ${tampered}` });
      assert.equal(r.status, 401);
    });

    test('wrong password and unknown user get the same 401', async () => {
      const { httpsJson } = await import('@tessera/core/https-client');
      const attempt = (user: string, pw: string) =>
        httpsJson<{ message: string }>({ url: `${t.url}/user/_self_/token`, ca: t.ca, headers: { authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` } });
      const wrong = await attempt('jane', 'not-her-password');
      const unknown = await attempt('nobody', 'whatever-password');
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.equal(wrong.body.message, unknown.body.message);
    });

    test('system meta: domain admins may not set the account; replacing needs delete', async () => {
      const jane = await t.login('jane', 'jane-password');
      await t.admin.call('PUT', '/domain/sports/role/admin/member/user.jane', { memberName: 'user.jane' });
      const r = await jane.call<{ message: string }>('PUT', '/domain/sports/meta/system/account', { account: '210987654321' });
      assert.equal(r.status, 403);
      assert.match(r.body.message, /sys\.auth:meta\.domain\.account\.sports/);
      // A sys.auth policy may grant update (not delete): first set works elsewhere, replacing does not.
      await t.admin.call('PUT', '/domain/sys.auth/role/account-managers', { name: 'account-managers', roleMembers: [{ memberName: 'user.jane' }] });
      await t.admin.call('PUT', '/domain/sys.auth/policy/account-managers', {
        name: 'account-managers',
        assertions: [{ role: 'account-managers', action: 'update', resource: 'sys.auth:meta.domain.account.*' }],
      });
      await t.admin.call('POST', '/domain', { name: 'media', adminUsers: ['user.jane'] });
      assert.equal((await jane.call('PUT', '/domain/media/meta/system/account', { account: '333333333333' })).status, 204);
      const reset = await jane.call<{ message: string }>('PUT', '/domain/media/meta/system/account', { account: '333333333333,444444444444' });
      assert.equal(reset.status, 403);
      assert.match(reset.body.message, /reset system meta attribute: account/);
      assert.equal((await jane.call('PUT', '/domain/media/meta/system/account', { account: ' 333333333333 ,333333333333' })).status, 204, 'same set is no reset');
    });

    test('AWS accounts: validated, de-duplicated, unique across domains', async () => {
      const bad = await t.admin.call<{ message: string }>('PUT', '/domain/sports/meta/system/account', { account: '12345' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /12 digits/);
      const taken = await t.admin.call<{ message: string }>('PUT', '/domain/sports.web/meta/system/account', { account: '123456789012' });
      assert.equal(taken.status, 409);
      assert.match(taken.body.message, /already assigned to domain: sports/);
      const multi = await t.admin.call('PUT', '/domain/sports.web/meta/system/account', { account: '111111111111, 222222222222,111111111111' });
      assert.equal(multi.status, 204);
      const d = await t.admin.call<{ account: string }>('GET', '/domain/sports.web');
      assert.equal(d.body.account, '111111111111,222222222222');
      const lookup = await t.admin.call<{ names: string[] }>('GET', '/domain?account=222222222222');
      assert.deepEqual(lookup.body.names, ['sports.web']);
    });

    test('bad names and bodies are 400 with a message, and write nothing', async () => {
      const before = await snapshot();
      const cases: [string, string, unknown, RegExp][] = [
        ['POST', '/domain', { name: 'bad name', adminUsers: ['user.admin'] }, /Invalid body field name: expected a top-level domain name/],
        ['POST', '/domain', { name: 'a'.repeat(1000), adminUsers: ['user.admin'] }, /Invalid body field name: must be at most 128 characters/],
        ['POST', '/subdomain/sports', { parent: 'sports', name: 'a'.repeat(127), adminUsers: ['user.admin'] }, /longer than 128 characters/],
        ['POST', '/domain', { name: 'nodmins' }, /adminUsers is required/],
        ['POST', '/domain', '{not json', /not valid JSON/],
        ['POST', '/domain', [1, 2], /JSON object/],
        ['PUT', '/domain/sports/service/api', { name: 'other.api' }, /Inconsistent service\/domain names/],
        ['PUT', '/domain/sports/service/a_b', { name: 'sports.a_b' }, /underscore/],
        ['PUT', '/domain/sports/service/ab', { name: 'sports.ab' }, /too short/],
        ['PUT', '/domain/sports/service/com', { name: 'sports.com' }, /reserved service name/],
        ['PUT', '/domain/sports/role/readers', { name: 'sports:role.other' }, /does not match the path/],
        ['PUT', '/domain/sports/role/readers', { roleMembers: [{ memberName: 'not a member' }] }, /Invalid body field roleMembers\[0\]\.memberName: expected "\*", "<domain>\.\*"/],
        ['PUT', '/domain/sports/role/readers', { roleMembers: [{ memberName: 'user.x', expiration: 'tomorrow' }] }, /ISO-8601/],
        ['PUT', '/domain/sports/policy/readers', { assertions: [{ role: 'readers', action: 'read', resource: 'nodomain' }] }, /must name its domain/],
        ['PUT', '/domain/sports/policy/readers', { assertions: [{ role: 'readers', action: 'read', resource: 'sports:x', effect: 'MAYBE' }] }, /Invalid body field assertions\[0\]\.effect: must be one of "ALLOW", "DENY"/],
        // Athenz's ResourceName rule for an assertion's role (core/names.ts isAssertionRole).
        ['PUT', '/domain/sports/policy/readers', { assertions: [{ role: "x'; DROP TABLE domains;--", action: 'read', resource: 'sports:x' }] }, /^Invalid assertions\[0\]\.role "sports:role\.x'; DROP TABLE domains;--": expected a role name "<domain>:role\.<role>"/],
        ['PUT', '/domain/sports/policy/readers/assertion', { role: "x'; DROP TABLE domains;--", action: 'read', resource: 'sports:x' }, /^Invalid assertion\.role "sports:role\.x'; DROP TABLE domains;--"/],
        ['PUT', '/domain/sports/policy/readers/assertion', { role: 'sports:role.', action: 'read', resource: 'sports:x' }, /^Invalid assertion\.role "sports:role\."/],
        ['PUT', '/domain/sports/policy/readers/assertion', { role: 'sports:role.a b', action: 'read', resource: 'sports:x' }, /^Invalid assertion\.role/],
        ['PUT', '/domain/sports/policy/readers/assertion', { role: 'spo rts:role.readers', action: 'read', resource: 'sports:x' }, /^Invalid assertion\.role/],
        ['PUT', '/domain/sports/policy/readers', { assertions: [{ role: 'readers', action: 'read\r\nx', resource: 'sports:x' }] }, /assertions\[0\]\.action: expected text without control characters/],
        ['PUT', '/domain/sports/policy/readers/assertion', { role: 'readers', action: 'read', resource: 'sports:x\u0000' }, /body field resource: expected text without control characters/],
        ['PUT', '/domain/sports/policy/readers/assertion', { role: 'readers', action: 'a'.repeat(1000), resource: 'sports:x' }, /body field action: must be at most 512 characters/],
        ['PUT', '/domain/sports/policy/admin', { assertions: [] }, /admin policy cannot be modified/],
        // One service-name rule: the launch template's service parameter too.
        ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'ab' }] }, /^template parameter service: service name length too short: "ab" needs at least 3 characters; no service can have this name$/],
        ['PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'a_b' }] }, /^template parameter service: service name with underscore not allowed/],
        ['PUT', '/domain/sports/template', { templateNames: [] }, /No templates specified/],
        ['PUT', '/domain/sports/meta/system/bogus', {}, /unknown system meta attribute/],
        ['PUT', '/domain/sports/meta', { serviceCertExpiryMins: -5 }, /Invalid body field serviceCertExpiryMins: must be 0 or more/],
        ['PUT', '/domain/sports/meta', { serviceCertExpiryMins: 99999999999 }, /Invalid body field serviceCertExpiryMins: must be at most 2147483647/],
        ['PUT', '/domain/sports/meta', { description: 5 }, /Invalid body field description: must be a string/],
        ['GET', `/domain/${'a'.repeat(200)}`, undefined, /Invalid path parameter domain: must be at most 128 characters/],
        ['DELETE', '/domain/sports/role/admin', undefined, /admin role cannot be deleted/],
        ['GET', '/access/launch?resource=sports:service.api&principal=not%20valid', undefined, /Invalid check principal/],
      ];
      for (const [method, path, body, message] of cases) {
        const r = await t.admin.call<{ code: number; message: string }>(method, path, body);
        assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(body)} → ${r.status} ${r.text}`);
        assert.equal(r.body.code, 400);
        assert.match(r.body.message, message);
      }
      assert.equal(await snapshot(), before, 'no refused request changed the domain');
      // Role globs stay allowed (Athenz's access check honours them).
      const glob = await t.admin.call<{ role: string }>('PUT', '/domain/sports/policy/readers/assertion', { role: 'sports:role.read*', action: 'peek', resource: 'sports:x' });
      assert.equal(glob.status, 200, glob.text);
      assert.equal(glob.body.role, 'sports:role.read*');
      const unknownTemplate = await t.admin.call('PUT', '/domain/sports/template', { templateNames: ['nope'], params: [] });
      assert.equal(unknownTemplate.status, 404);
      assert.equal((await t.admin.call('GET', '/domain/nosuch')).status, 404);
      assert.equal((await t.admin.call('GET', '/access/launch?resource=nosuch:service.api')).status, 404);
    });

    test('a write that fails midway leaves nothing half-written', async () => {
      // The second template fails validation after the first was processed in the same request.
      const before = await snapshot();
      const r = await t.admin.call('PUT', '/domain/sports/template', {
        templateNames: ['zts_instance_launch_provider', 'nope'],
        params: [{ name: 'service', value: 'api' }],
      });
      assert.equal(r.status, 404);
      assert.equal(await snapshot(), before);
      const roles = await t.admin.call<{ names: string[] }>('GET', '/domain/sports/role');
      assert.ok(!roles.body.names.includes('zts_instance_launch_provider'));
      // A duplicate top-level domain does not disturb the existing one.
      const dup = await t.admin.call('POST', '/domain', { name: 'sports', adminUsers: ['user.mallory'] });
      assert.equal(dup.status, 400);
      assert.match((dup.body as { message: string }).message, /Cannot create domain: sports - already exists/);
      assert.equal(await snapshot(), before);
    });

    test('audit-enabled domains require an audit reference for role changes', async () => {
      assert.equal((await t.admin.call('PUT', '/domain/sports.web/meta/system/auditenabled', { auditEnabled: true })).status, 204);
      const missing = await t.admin.call<{ message: string }>('PUT', '/domain/sports.web/role/ops', { roleMembers: [{ memberName: 'user.jane' }] });
      assert.equal(missing.status, 400);
      assert.match(missing.body.message, /Audit reference required/);
      const ok = await t.admin.call('PUT', '/domain/sports.web/role/ops', { roleMembers: [{ memberName: 'user.jane' }] }, { 'y-audit-ref': 'TICKET-1' });
      assert.equal(ok.status, 204);
      const history = await t.admin.call<{ entries: { api: string; auditRef?: string }[] }>('GET', '/domain/sports.web/history?limit=1');
      assert.equal(history.body.entries[0].auditRef, 'TICKET-1');
    });
  });
}
