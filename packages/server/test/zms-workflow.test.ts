/**
 * The ZMS part of the Athenz EKS/Fargate workflow, through HTTPS against a
 * real server, on SQLite and on PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, startTestServer, type TestServer } from './support/test-server.ts';

for (const backend of BACKENDS) {
  describe(`ZMS workflow on ${backend}`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
    });
    after(() => t?.close());

    const launch = () =>
      t.admin.call<{ granted: boolean }>('GET', '/access/launch?resource=sports:service.api&domain=sports&principal=athenz.aws.us-west-2');

    test('bootstrap created the system and provider data', async () => {
      const domains = await t.admin.call<{ names: string[] }>('GET', '/domain');
      for (const d of ['sys', 'sys.auth', 'user', 'athenz', 'athenz.aws', 'athenz.aws-ecs']) assert.ok(domains.body.names.includes(d), d);
      const provider = await t.admin.call<{ providerEndpoint: string }>('GET', '/domain/athenz.aws/service/us-west-2');
      assert.equal(provider.status, 200);
      assert.match(provider.body.providerEndpoint, /InstanceAWSProvider$/);
      const instance = await t.admin.call<{ granted: boolean }>('GET', '/access/launch/sys.auth:instance?principal=athenz.aws.us-west-2');
      assert.deepEqual(instance.body, { granted: true });
      const dns = await t.admin.call<{ granted: boolean }>('GET', '/access/launch?resource=sys.auth:dns.aws.athenz.cloud&principal=athenz.aws.us-west-2');
      assert.deepEqual(dns.body, { granted: true });
      const templates = await t.admin.call<{ templateNames: string[] }>('GET', '/template');
      assert.ok(templates.body.templateNames.includes('aws_instance_launch_provider'));
      assert.ok(templates.body.templateNames.includes('aws_ecs_instance_launch_provider'));
    });

    test('domain, account, service, provider template, launch access', async () => {
      const created = await t.admin.call<{ name: string; id: string; modified: string }>('POST', '/domain', {
        name: 'sports',
        adminUsers: ['user.admin'],
        description: 'Sports',
      });
      assert.equal(created.status, 200, created.text);
      assert.equal(created.body.name, 'sports');
      assert.match(created.body.id, /^[0-9a-f-]{36}$/);

      const account = await t.admin.call('PUT', '/domain/sports/meta/system/account', { account: '123456789012', awsAccountName: '' });
      assert.equal(account.status, 204, account.text);
      const domain = await t.admin.call<{ account: string; modified: string }>('GET', '/domain/sports');
      assert.equal(domain.body.account, '123456789012');
      assert.ok(domain.body.modified > created.body.modified, 'modified must increase on every change');

      const byAccount = await t.admin.call<{ names: string[] }>('GET', '/domain?account=123456789012');
      assert.deepEqual(byAccount.body.names, ['sports']);

      const service = await t.admin.call('PUT', '/domain/sports/service/api', { name: 'sports.api', description: 'API' });
      assert.equal(service.status, 204, service.text);

      assert.deepEqual((await launch()).body, { granted: false }, 'not granted before the template');

      const template = await t.admin.call('PUT', '/domain/sports/template', {
        templateNames: ['aws_instance_launch_provider'],
        params: [{ name: 'service', value: 'api' }],
      });
      assert.equal(template.status, 204, template.text);
      assert.deepEqual((await launch()).body, { granted: true });

      // The ECS provider is not allowed by the EC2/EKS/Fargate template.
      const ecs = await t.admin.call<{ granted: boolean }>('GET', '/access/launch?resource=sports:service.api&principal=athenz.aws-ecs.us-west-2');
      assert.deepEqual(ecs.body, { granted: false });

      const role = await t.admin.call<{ roleMembers: { memberName: string }[] }>('GET', '/domain/sports/role/aws_instance_launch_provider');
      assert.deepEqual(role.body.roleMembers.map((m) => m.memberName), ['athenz.aws.*']);
      const applied = await t.admin.call<{ templateNames: string[] }>('GET', '/domain/sports/template');
      assert.deepEqual(applied.body.templateNames, ['aws_instance_launch_provider']);
    });

    test('applying a template again only adds (second service)', async () => {
      await t.admin.call('PUT', '/domain/sports/service/web', { name: 'sports.web' });
      for (let i = 0; i < 2; i++) {
        const r = await t.admin.call('PUT', '/domain/sports/template/aws_instance_launch_provider', {
          templateNames: ['aws_instance_launch_provider'],
          params: [{ name: 'service', value: 'web' }],
        });
        assert.equal(r.status, 204, r.text);
      }
      const policy = await t.admin.call<{ assertions: { resource: string }[] }>('GET', '/domain/sports/policy/aws_instance_launch_provider');
      assert.deepEqual(policy.body.assertions.map((a) => a.resource).sort(), ['sports:service.api', 'sports:service.web']);
    });

    test('provider endpoint as a system attribute; template details', async () => {
      const set = await t.admin.call('PUT', '/domain/sports/service/web/meta/system/providerendpoint', { providerEndpoint: 'https://provider.example.com/callback' });
      assert.equal(set.status, 204, set.text);
      const web = await t.admin.call<{ providerEndpoint: string }>('GET', '/domain/sports/service/web');
      assert.equal(web.body.providerEndpoint, 'https://provider.example.com/callback');
      // A regular PUT keeps it: it is a system attribute.
      await t.admin.call('PUT', '/domain/sports/service/web', { name: 'sports.web', description: 'changed' });
      assert.equal((await t.admin.call<{ providerEndpoint: string }>('GET', '/domain/sports/service/web')).body.providerEndpoint, 'https://provider.example.com/callback');
      const bad = await t.admin.call<{ message: string }>('PUT', '/domain/sports/service/web/meta/system/providerendpoint', { providerEndpoint: 'ftp://x' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /http\(s\):\/\/ URL or a class:\/\/ provider name/);

      const tpl = await t.admin.call<{ metadata: { templateName: string; keywordsToReplace: string }; roles: { name: string; roleMembers: { memberName: string }[] }[] }>('GET', '/template/aws_instance_launch_provider');
      assert.equal(tpl.status, 200);
      assert.equal(tpl.body.metadata.keywordsToReplace, '_service_');
      assert.deepEqual(tpl.body.roles[0].roleMembers, [{ memberName: 'athenz.aws.*' }]);
      assert.equal((await t.admin.call('GET', '/template/nope')).status, 404);
    });

    test('change feed: modified domains and the signed domain', async () => {
      const all = await t.admin.call<{ domains: { domain: { name: string; modified: string } }[] }>('GET', '/sys/modified_domains?metaonly=true');
      assert.equal(all.status, 200);
      const etag = String(all.headers.etag);
      assert.ok(all.body.domains.some((d) => d.domain.name === 'sports'));
      const none = await t.admin.call('GET', '/sys/modified_domains?metaonly=true', undefined, { 'if-none-match': etag });
      assert.equal(none.status, 304);
      await t.admin.call('PUT', '/domain/sports/meta', { description: 'Sports, changed' });
      const changed = await t.admin.call<{ domains: { domain: { name: string } }[] }>('GET', '/sys/modified_domains?metaonly=true', undefined, { 'if-none-match': etag });
      assert.deepEqual(changed.body.domains.map((d) => d.domain.name), ['sports']);

      const signed = await t.admin.call<{ payload: string; protected: string; signature: string }>('GET', '/domain/sports/signed');
      assert.equal(signed.status, 200);
      const header = JSON.parse(Buffer.from(signed.body.protected, 'base64url').toString());
      assert.equal(header.alg, 'ES256');
      const data = JSON.parse(Buffer.from(signed.body.payload, 'base64url').toString());
      assert.equal(data.name, 'sports');
      assert.ok(data.roles.some((r: { name: string }) => r.name === 'sports:role.aws_instance_launch_provider'));
      const again = await t.admin.call('GET', '/domain/sports/signed', undefined, { 'if-none-match': String(signed.headers.etag) });
      assert.equal(again.status, 304);
    });

    test('sub-domains, user domains, delete rules', async () => {
      const jane = await t.user('jane');
      const sub = await t.admin.call('POST', '/subdomain/sports', { name: 'web', parent: 'sports', adminUsers: ['user.jane'] });
      assert.equal(sub.status, 200, sub.text);
      const refused = await t.admin.call<{ message: string }>('DELETE', '/domain/sports');
      assert.equal(refused.status, 400);
      assert.match(refused.body.message, /subdomains of it exist/);

      const home = await jane.call('POST', '/userdomain/jane', { name: 'jane' });
      assert.equal(home.status, 200, home.text);
      const other = await jane.call<{ code: number }>('POST', '/userdomain/bob', { name: 'bob' });
      assert.equal(other.status, 403);

      // jane administers sports.web (and may delete it), but not sports.
      assert.equal((await jane.call('PUT', '/domain/sports.web/service/svc', { name: 'sports.web.svc' })).status, 204);
      assert.equal((await jane.call('PUT', '/domain/sports/service/svc', { name: 'sports.svc' })).status, 403);
      assert.equal((await jane.call('DELETE', '/subdomain/sports/web')).status, 204);
      assert.equal((await t.admin.call('GET', '/domain/sports.web')).status, 404);
      assert.equal((await jane.call('DELETE', '/userdomain/jane')).status, 204);
    });

    test('roles, members with expiry, policies with DENY, history', async () => {
      const future = new Date(Date.now() + 86_400_000).toISOString();
      const past = new Date(Date.now() - 86_400_000).toISOString();
      const put = await t.admin.call('PUT', '/domain/sports/role/readers', {
        name: 'sports:role.readers',
        roleMembers: [{ memberName: 'user.jane', expiration: future }, { memberName: 'user.old', expiration: past }],
      });
      assert.equal(put.status, 204, put.text);
      const policy = await t.admin.call('PUT', '/domain/sports/policy/readers', {
        name: 'sports:policy.readers',
        assertions: [{ role: 'sports:role.readers', action: 'read', resource: 'sports:data.*', effect: 'ALLOW' }],
      });
      assert.equal(policy.status, 204, policy.text);
      const check = async (principal: string, resource = 'sports:data.scores') =>
        (await t.admin.call<{ granted: boolean }>('GET', `/access/read/${resource}?principal=${principal}`)).body.granted;
      assert.equal(await check('user.jane'), true);
      assert.equal(await check('user.old'), false, 'expired member');
      // A principal's roles across every domain: found in the stored text, then matched exactly.
      const rolesOf = async (principal: string) =>
        (await t.admin.call<{ memberRoles: { domainName: string; roleName: string }[] }>('GET', `/role?principal=${principal}`)).body.memberRoles.map((r) => `${r.domainName}:${r.roleName}`);
      assert.ok((await rolesOf('user.jane')).includes('sports:readers'));
      assert.deepEqual(await rolesOf('user.ja'), [], 'a part of a member name is not a member');
      assert.ok((await rolesOf('user.admin')).includes('sports:admin'));

      const deny = await t.admin.call<{ id: number }>('PUT', '/domain/sports/policy/readers/assertion', {
        role: 'sports:role.readers', action: 'read', resource: 'sports:data.secret', effect: 'DENY',
      });
      assert.equal(deny.status, 200, deny.text);
      assert.equal(typeof deny.body.id, 'number');
      assert.equal(await check('user.jane', 'sports:data.secret'), false);
      assert.equal((await t.admin.call('DELETE', `/domain/sports/policy/readers/assertion/${deny.body.id}`)).status, 204);
      assert.equal(await check('user.jane', 'sports:data.secret'), true);

      assert.equal((await t.admin.call('PUT', '/domain/sports/role/readers/member/user.bob', { memberName: 'user.bob' })).status, 204);
      assert.equal(await check('user.bob'), true);
      assert.equal((await t.admin.call('DELETE', '/domain/sports/role/readers/member/user.bob')).status, 204);
      assert.equal(await check('user.bob'), false);

      const withLog = await t.admin.call<{ auditLog: { member: string; action: string }[] }>('GET', '/domain/sports/role/readers?auditLog=true');
      assert.deepEqual(withLog.body.auditLog.map((e) => `${e.action} ${e.member}`), ['ADD user.jane', 'ADD user.old', 'ADD user.bob', 'DELETE user.bob']);

      const history = await t.admin.call<{ entries: { api: string; principal: string }[] }>('GET', '/domain/sports/history');
      const apis = history.body.entries.map((e) => e.api);
      for (const api of ['postTopLevelDomain', 'putDomainSystemMeta', 'putServiceIdentity', 'putDomainTemplate', 'putRole', 'putAssertion', 'deleteMembership']) {
        assert.ok(apis.includes(api), `history has ${api}`);
      }
      assert.ok(history.body.entries.every((e) => e.principal === 'user.admin'));
    });

    test('public keys: add, replace, delete by id', async () => {
      const { generateKeyPairSync } = await import('node:crypto');
      const { ybase64Encode } = await import('@tessera/core/ybase64');
      const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const k0 = ybase64Encode(pem());
      const k1 = ybase64Encode(pem());
      assert.equal((await t.admin.call('PUT', '/domain/sports/service/keys', { name: 'sports.keys', publicKeys: [{ id: '0', key: k0 }] })).status, 204);
      assert.equal((await t.admin.call('PUT', '/domain/sports/service/keys/publickey/v1', { id: 'v1', key: k1 })).status, 204);
      const got = await t.admin.call<{ publicKeys: { id: string; key: string }[] }>('GET', '/domain/sports/service/keys');
      assert.deepEqual(got.body.publicKeys.map((k) => k.id), ['0', 'v1']);
      assert.equal((await t.admin.call('DELETE', '/domain/sports/service/keys/publickey/0')).status, 204);
      const bad = await t.admin.call<{ message: string }>('PUT', '/domain/sports/service/keys/publickey/v2', { id: 'v2', key: 'bm90LWEta2V5' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /public key is invalid/);
      // Not YBase64 at all (a length no encoder makes) is the same 400, not a 500 (found by zms-body-fuzz, seed 419879171).
      const notYbase64 = await t.admin.call<{ message: string }>('PUT', '/domain/sports/service/keys/publickey/v2', { id: 'v2', key: '0' });
      assert.equal(notYbase64.status, 400);
      assert.match(notYbase64.body.message, /public key is invalid \(publicKeyEntry, id v2\)/);
      const after = await t.admin.call<{ publicKeys: { id: string }[] }>('GET', '/domain/sports/service/keys');
      assert.deepEqual(after.body.publicKeys.map((k) => k.id), ['v1']);
    });
  });
}
