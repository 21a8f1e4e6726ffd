/**
 * ZMS conformance with Athenz's RDL. The facts (types, fields, resources,
 * expected statuses, listed exceptions) come from athenz-zms-rdl.json, derived
 * from core/zms/src/main/rdl by scripts/derive-athenz-zms-types.ts. A scripted
 * session through a client built like Athenz's UI (generic RDL client: the
 * `Athenz-Principal-Auth` header, `Content-Type: application/json` on every
 * call) calls every endpoint Tessera serves, and every answer is checked:
 * status listed by the RDL, required fields, field types, timestamp format,
 * and the error shape {"code","message"}.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { httpsJson } from '@tessera/core/https-client';
import { startTestServer, type TestServer } from '../support/test-server.ts';

interface Field { name: string; type: string; optional: boolean }
interface TypeDef { base: string; fields?: Field[]; values?: string[] }
interface Resource { type: string; method: string; path: string; expected: number[]; exceptions: number[] }
const rdl = JSON.parse(readFileSync(new URL('./athenz-zms-rdl.json', import.meta.url), 'utf8')) as { types: Record<string, TypeDef>; resources: Resource[] };

/** Tessera's own endpoints (docs/zms-api.md), not part of Athenz's API. */
const EXTENSIONS = new Set([
  'POST /session', 'DELETE /session', 'GET /session', 'PUT /user/{}/password', 'GET /domain/{}/history',
  'GET /domain/{}/service/{}/instances', 'DELETE /domain/{}/service/{}/instance/{}/{}', 'GET /domain/{}/service-status',
  'GET /openapi.json',
]);

const shape = (path: string) => path.replace(/\{[^}]+\}/g, '{}');
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The RDL resource a call hits; a literal segment wins over a parameter, as in Athenz's router (/domain/metastore before /domain/{domainName}). */
function findResource(method: string, path: string): Resource | undefined {
  const p = path.split('?')[0]!.split('/');
  const literals = (r: Resource) => r.path.split('/').filter((seg) => !seg.startsWith('{')).length;
  return rdl.resources
    .filter((r) => {
      if (r.method !== method) return false;
      const t = r.path.split('/');
      return t.length === p.length && t.every((seg, i) => seg.startsWith('{') || seg === p[i]);
    })
    .sort((a, b) => literals(b) - literals(a))[0];
}

/** Checks `value` against an RDL type; returns what is wrong. */
function check(type: string, value: unknown, at: string, opts: { metaOnly?: boolean } = {}): string[] {
  const generic = /^(Array|Map)<(.+)>$/.exec(type);
  if (generic) {
    if (generic[1] === 'Array') {
      if (!Array.isArray(value)) return [`${at}: expected an array`];
      return value.flatMap((v, i) => check(generic[2]!, v, `${at}[${i}]`, opts));
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: expected an object (map)`];
    const valueType = generic[2]!.slice(generic[2]!.indexOf(',') + 1);
    return Object.entries(value).flatMap(([k, v]) => check(valueType, v, `${at}.${k}`, opts));
  }
  switch (type) {
    case 'String': case 'UUID': return typeof value === 'string' ? [] : [`${at}: expected a string, got ${JSON.stringify(value)}`];
    case 'Int8': case 'Int16': case 'Int32': case 'Int64': return Number.isInteger(value) ? [] : [`${at}: expected an integer, got ${JSON.stringify(value)}`];
    case 'Float32': case 'Float64': return typeof value === 'number' ? [] : [`${at}: expected a number`];
    case 'Bool': return typeof value === 'boolean' ? [] : [`${at}: expected true/false, got ${JSON.stringify(value)}`];
    case 'Timestamp': return typeof value === 'string' && TIMESTAMP.test(value) ? [] : [`${at}: expected a timestamp like 2030-01-31T00:00:00.000Z, got ${JSON.stringify(value)}`];
    case 'Any': return [];
    case 'Struct': return typeof value === 'object' && value !== null ? [] : [`${at}: expected an object`];
  }
  const def = rdl.types[type];
  if (!def) return [`${at}: unknown RDL type ${type}`];
  if (def.base === 'Enum') return def.values!.includes(value as string) ? [] : [`${at}: expected one of ${def.values!.join(', ')}, got ${JSON.stringify(value)}`];
  if (!def.fields) return check(def.base, value, at, opts);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: expected a ${type} object`];
  const fields: Field[] = [];
  for (let d: TypeDef | undefined = def; d?.fields; d = rdl.types[d.base]) fields.push(...d.fields);
  const obj = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const f of fields) {
    if (obj[f.name] === undefined) {
      // Athenz's own meta-only SignedDomain carries only name, modified and enabled.
      if (!f.optional && !(opts.metaOnly && type === 'DomainData')) problems.push(`${at}.${f.name}: required by ${type}, missing`);
      continue;
    }
    problems.push(...check(f.type, obj[f.name], `${at}.${f.name}`, opts));
  }
  for (const k of Object.keys(obj)) if (!fields.some((f) => f.name === k)) problems.push(`${at}.${k}: not a field of ${type}`);
  return problems;
}

const ybase64 = (s: string) => Buffer.from(s).toString('base64').replace(/\+/g, '.').replace(/\//g, '_').replace(/=/g, '-');

let t: TestServer;
let token = '';
let janeToken = '';
const seen = new Set<string>();
const problems: string[] = [];

/** The generic RDL client: every call with Athenz-Principal-Auth and Content-Type: application/json. */
async function call(method: string, path: string, body?: unknown, expect?: number, opts: { metaOnly?: boolean; anonymous?: boolean; headers?: Record<string, string> } = {}) {
  const res = await httpsJson<unknown>({
    method, url: `${t.url}${path}`, ca: t.ca,
    headers: { 'content-type': 'application/json', ...(opts.anonymous ? {} : { 'athenz-principal-auth': token }), ...opts.headers },
    ...(body === undefined ? {} : { body }),
  });
  const where = `${method} ${path} → ${res.status}`;
  if (expect !== undefined) assert.equal(res.status, expect, `${where}: ${res.text}`);
  const resource = findResource(method, path);
  assert.ok(resource, `${method} ${path} is not an Athenz resource`);
  seen.add(`${method} ${shape(resource.path)}`);
  if (![...resource.expected, ...resource.exceptions, 304].includes(res.status)) problems.push(`${where}: status not listed by the RDL (${[...resource.expected, ...resource.exceptions].join(', ')})`);
  if (res.status >= 400) {
    const e = res.body as { code?: unknown; message?: unknown };
    if (e?.code !== res.status || typeof e.message !== 'string' || Object.keys(e).length !== 2) problems.push(`${where}: error body is not {"code":${res.status},"message":"..."}: ${res.text}`);
  } else if (res.status === 204) {
    if (res.text !== '') problems.push(`${where}: 204 with a body`);
  } else {
    problems.push(...check(resource.type, res.body, `${where} ${resource.type}`, opts));
  }
  return res.body as Record<string, unknown>;
}

before(async () => {
  t = await startTestServer('sqlite', { authorizedServices: 'athenz.ui-server', corsOrigins: 'https://ui.example.test' });
  // Athenz's optionsUserToken (the browser's preflight; no RDL client sends it): Jersey's 204 for its null answer.
  const preflight = await httpsJson({ method: 'OPTIONS', url: `${t.url}/user/_self_/token?services=athenz.ui-server`, ca: t.ca, headers: { origin: 'https://ui.example.test' } });
  assert.equal(preflight.status, 204, preflight.text);
  seen.add('OPTIONS /user/{}/token');
  const login = await httpsJson<{ token: string; header: string }>({ url: `${t.url}/user/_self_/token?header=true`, ca: t.ca, headers: { authorization: `Basic ${Buffer.from(`admin:${'admin-password-for-tests'}`).toString('base64')}` } });
  assert.equal(login.status, 200, login.text);
  assert.equal(login.body.header, 'Athenz-Principal-Auth');
  token = login.body.token;
  seen.add('GET /user/{}/token');
  // What the Athenz UI's pages load besides the domain APIs: meta store values, authority attributes,
  // and (in every page header) pending members and review lists.
  assert.deepEqual(await call('GET', '/domain/metastore?attribute=businessService&user=user.admin', undefined, 200), { validValues: [] });
  await call('GET', '/domain/metastore?attribute=color', undefined, 400);
  await call('GET', '/authority/user/attribute', undefined, 200);
  await call('GET', '/pending_members?principal=user.admin', undefined, 200);
  await call('GET', '/pending_group_members?domain=*', undefined, 200);
  await call('GET', '/review/role?principal=user.admin', undefined, 200);
  await call('GET', '/review/group', undefined, 200);
  problems.push(...check('UserToken', login.body, 'GET /user/_self_/token?header=true UserToken'));
  assert.equal((await t.admin.call('PUT', '/user/jane/password', { password: 'jane-password' })).status, 204);
  janeToken = (await t.login('jane', 'jane-password')).token;
});
after(() => t?.close());

test('a scripted session through an Athenz-style client: every answer matches the RDL', async () => {
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

  await call('GET', '/status', undefined, 200);
  await call('GET', '/principal', undefined, 200);
  await call('GET', '/user', undefined, 200);
  await call('GET', '/user?domain=nosuch', undefined, 400);
  // domains
  await call('POST', '/domain', { name: 'conf', adminUsers: ['user.admin'], description: 'conformance', org: '', templates: { templateNames: [] } }, 200);
  await call('POST', '/domain', { name: 'conf', adminUsers: ['user.admin'] }, 400);
  await call('POST', '/subdomain/conf', { name: 'sub', parent: 'conf', adminUsers: ['user.admin'] }, 200);
  const adminToken = token;
  token = janeToken; // a user creates (and deletes) their own domain
  await call('POST', '/userdomain/jane', { name: 'jane' }, 200);
  await call('DELETE', '/userdomain/jane', undefined, 204);
  token = adminToken;
  await call('GET', '/domain', undefined, 200);
  await call('GET', '/domain?prefix=conf&depth=1', undefined, 200);
  await call('GET', '/domain/conf', undefined, 200);
  await call('GET', '/domain/nosuch', undefined, 404);
  await call('GET', '/domain/conf', undefined, 401, { anonymous: true });
  await call('PUT', '/domain/conf/meta', { description: 'changed', memberExpiryDays: 10, serviceCertExpiryMins: 1440 }, 204);
  await call('PUT', '/domain/conf/meta', { memberExpiryDays: 'ten' }, 400);
  await call('PUT', '/domain/conf/meta/system/account', { account: '123456789012' }, 204);
  await call('GET', '/domain/conf/check', undefined, 200);
  // services
  await call('PUT', '/domain/conf/service/api', { name: 'conf.api', description: 'the API', publicKeys: [{ id: 'k0', key: ybase64(pem) }] }, 204);
  await call('GET', '/domain/conf/service', undefined, 200);
  await call('GET', '/domain/conf/services', undefined, 200);
  await call('GET', '/domain/conf/services?publickeys=false', undefined, 200);
  await call('GET', '/domain/conf/service/api', undefined, 200);
  await call('PUT', '/domain/conf/service/api/publickey/k1', { id: 'k1', key: ybase64(pem) }, 204);
  await call('GET', '/domain/conf/service/api/publickey/k1', undefined, 200);
  await call('DELETE', '/domain/conf/service/api/publickey/k1', undefined, 204);
  await call('GET', '/domain/conf/service/api/publickey/k1', undefined, 404);
  await call('PUT', '/domain/conf/service/api/meta/system/providerendpoint', { providerEndpoint: 'https://provider.example.com/instance' }, 204);
  // roles and members
  await call('PUT', '/domain/conf/role/readers', { name: 'conf:role.readers', roleMembers: [{ memberName: 'user.jane', expiration: '2031-01-01T00:00:00.000Z' }] }, 204);
  await call('GET', '/domain/conf/role', undefined, 200);
  await call('GET', '/domain/conf/roles', undefined, 200);
  await call('GET', '/domain/conf/role/readers', undefined, 200);
  await call('GET', '/domain/conf/role/readers?auditLog=true', undefined, 200);
  await call('PUT', '/domain/conf/role/readers/member/user.bob', { memberName: 'user.bob', roleName: 'readers' }, 204);
  await call('GET', '/domain/conf/role/readers/member/user.bob', undefined, 200);
  await call('DELETE', '/domain/conf/role/readers/member/user.bob', undefined, 204);
  await call('GET', '/domain/conf/member', undefined, 200);
  await call('GET', '/role', undefined, 200);
  await call('GET', '/role?principal=user.jane&domain=conf', undefined, 200);
  // policies and assertions
  await call('PUT', '/domain/conf/policy/readers', { name: 'conf:policy.readers', assertions: [{ role: 'conf:role.readers', resource: 'conf:data', action: 'read', effect: 'ALLOW' }] }, 204);
  await call('GET', '/domain/conf/policy', undefined, 200);
  await call('GET', '/domain/conf/policies', undefined, 200);
  await call('GET', '/domain/conf/policies?assertions=false', undefined, 200);
  await call('GET', '/domain/conf/policy/readers', undefined, 200);
  const assertion = await call('PUT', '/domain/conf/policy/readers/assertion', { role: 'conf:role.readers', resource: 'conf:other', action: 'write' }, 200);
  await call('GET', `/domain/conf/policy/readers/assertion/${String(assertion.id)}`, undefined, 200);
  await call('DELETE', `/domain/conf/policy/readers/assertion/${String(assertion.id)}`, undefined, 204);
  await call('PUT', '/domain/conf/policy/readers/assertion', { role: 'conf:role.readers', resource: 'conf:x', action: 'read\nwrite' }, 400);
  // templates
  await call('GET', '/template', undefined, 200);
  await call('GET', '/template/aws_instance_launch_provider', undefined, 200);
  await call('GET', '/templatedetails', undefined, 200);
  await call('PUT', '/domain/conf/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }, 204);
  await call('PUT', '/domain/conf/template/zts_instance_launch_provider', { templateNames: ['zts_instance_launch_provider'], params: [{ name: 'service', value: 'api' }] }, 204);
  await call('GET', '/domain/conf/template', undefined, 200);
  await call('GET', '/domain/conf/templatedetails', undefined, 200);
  await call('DELETE', '/domain/conf/template/zts_instance_launch_provider', undefined, 204);
  // access, signed data, history
  await call('GET', '/access/update/conf:role.readers', undefined, 200);
  await call('GET', '/access/launch?resource=conf:service.api&principal=athenz.aws.us-east-1', undefined, 200);
  await call('GET', '/sys/modified_domains?metaonly=true', undefined, 200, { metaOnly: true });
  await call('GET', '/sys/modified_domains?domain=conf', undefined, 200);
  await call('GET', '/domain/conf/signed', undefined, 200);
  await call('GET', '/domain/conf/history/auth', undefined, 200);
  await call('GET', '/domain/conf/check', undefined, 200);
  // deletes
  await call('DELETE', '/domain/conf/policy/readers', undefined, 204);
  await call('DELETE', '/domain/conf/role/readers', undefined, 204);
  await call('DELETE', '/domain/conf/service/api', undefined, 204);
  await call('DELETE', '/subdomain/conf/sub', undefined, 204);
  await call('DELETE', '/domain/conf', undefined, 204);
  await call('GET', '/domain/conf', undefined, 404);

  assert.deepEqual(problems, []);
});

/**
 * The ZMS calls Athenz's own UI (ui/ at AthenZ/athenz@228d2236853f) made, as
 * its RDL client sent them (method, path, query, body, Athenz-Return-Object),
 * captured from its `rdl-rest` log while scripts/drive-athenz-ui.mjs walked
 * login, home, roles, services, Add Service, Add Key, Allow provider,
 * instances, policies, history, the other domain tabs and Create > Sub
 * Domain against `tessera serve` (see docs/ui.md). Each answer is checked
 * against the RDL type of its call.
 */
test("the calls Athenz's UI made while its pages were walked: every answer matches the RDL", async () => {
  const adminToken = token;
  await call('POST', '/domain', { name: 'uisports', adminUsers: ['user.admin', 'user.jane'] }, 200);
  token = janeToken;
  try {
    // page headers (every page)
    await call('GET', '/pending_members?principal=user.jane', undefined, 200);
    await call('GET', '/pending_group_members?principal=user.jane', undefined, 200);
    await call('GET', '/review/role?principal=user.jane', undefined, 200);
    await call('GET', '/review/group?principal=user.jane', undefined, 200);
    await call('GET', '/role?expand=true', undefined, 200);
    await call('GET', '/authority/user/attribute', undefined, 200);
    await call('GET', '/domain/metastore?attribute=businessService', undefined, 200);
    await call('GET', '/domain/metastore?attribute=businessService&user=jane', undefined, 200);
    // the domain header and tabs
    await call('GET', '/domain/uisports', undefined, 200);
    await call('GET', '/domain/uisports/template', undefined, 200);
    await call('GET', '/pending_members?domain=uisports', undefined, 200);
    await call('GET', '/pending_group_members?domain=uisports', undefined, 200);
    await call('GET', '/domain/uisports/roles?members=true', undefined, 200);
    await call('GET', '/domain/uisports/member', undefined, 200);
    // Add Service (the UI asks for the stored object back), then the Services tab
    await call('PUT', '/domain/uisports/service/svc1', { name: 'uisports.svc1' }, 200, { headers: { 'athenz-return-object': 'true' } });
    await call('GET', '/domain/uisports/services?publickeys=true&hosts=true', undefined, 200);
    // Allow provider: the launch check, the template, the check again
    await call('GET', '/access/launch?resource=uisports%3Aservice.svc1&domain=uisports&principal=athenz.aws.us-west-2', undefined, 200);
    await call('PUT', '/domain/uisports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'svc1' }] }, 204);
    const granted = await call('GET', '/access/launch?resource=uisports%3Aservice.svc1&domain=uisports&principal=athenz.aws.us-west-2', undefined, 200);
    assert.deepEqual(granted, { granted: true });
    // Policies tab
    await call('GET', '/domain/uisports/policies?assertions=true&includeNonActive=true', undefined, 200);
    // Groups and Visibility tabs: Tessera has neither groups nor dependencies, so the lists are empty
    assert.deepEqual(await call('GET', '/domain/uisports/groups?members=true', undefined, 200), { list: [] });
    assert.deepEqual(await call('GET', '/dependency/domain/uisports/resourceGroup', undefined, 200), { serviceAndResourceGroups: [] });
    await call('GET', '/domain/nosuch/groups?members=true', undefined, 404);
    // a role's members page, the Templates and Visibility tabs' other reads
    await call('GET', '/domain/uisports/role/admin?auditLog=true&pending=true', undefined, 200);
    await call('GET', '/domain/uisports/templatedetails', undefined, 200);
    await call('GET', '/templatedetails', undefined, 200);
    await call('GET', '/domain/uisports/history/auth', undefined, 200);
    // Add Key (the key as the UI wraps it: a blank line before END), delete it, delete the service
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const uiWrapped = `-----BEGIN PUBLIC KEY-----${pem.replace('-----BEGIN PUBLIC KEY-----', '').replace('-----END PUBLIC KEY-----', '')}-----END PUBLIC KEY-----`;
    await call('PUT', '/domain/uisports/service/svc1/publickey/k1', { id: 'k1', key: ybase64(uiWrapped) }, 204);
    await call('DELETE', '/domain/uisports/service/svc1/publickey/k1', undefined, 204);
    await call('DELETE', '/domain/uisports/service/svc1', undefined, 204);
    // Create > Sub Domain, then its Roles tab
    await call('POST', '/subdomain/uisports', { parent: 'uisports', name: 'sub1', adminUsers: ['user.jane'] }, 200);
    await call('GET', '/domain/uisports.sub1/roles?members=true', undefined, 200);
    await call('GET', '/pending_members?domain=uisports.sub1', undefined, 200);
  } finally {
    token = adminToken;
  }
  assert.deepEqual(problems, []);
});

test('every endpoint Tessera serves is either Athenz\'s (and exercised above) or a listed Tessera extension', async () => {
  const doc = await httpsJson<{ paths: Record<string, Record<string, unknown>> }>({ url: `${t.url}/openapi.json`, ca: t.ca });
  const served = Object.entries(doc.body.paths).flatMap(([path, ops]) =>
    Object.keys(ops).filter((m) => m !== 'head').map((m) => `${m.toUpperCase()} ${shape(path.replace(/^\/zms\/v1/, ''))}`));
  const notAthenz = served.filter((s) => !EXTENSIONS.has(s) && !rdl.resources.some((r) => `${r.method} ${shape(r.path)}` === s));
  assert.deepEqual(notAthenz, [], 'served endpoints that are neither in the RDL nor listed extensions');
  const unexercised = served.filter((s) => !EXTENSIONS.has(s) && !seen.has(s));
  assert.deepEqual(unexercised, [], 'Athenz endpoints the session did not call');
});

test('the checker refuses what the RDL does not allow (so the session test can fail)', () => {
  assert.deepEqual(check('Role', { name: 'd:role.r', modified: '2030-01-01T00:00:00.000Z', roleMembers: [{ memberName: 'user.a' }] }, 'Role'), []);
  assert.deepEqual(check('Role', { roleMembers: [{ memberName: 5 }], modified: '2030-01-01', extra: 1 }, 'Role'), [
    'Role.name: required by Role, missing',
    'Role.modified: expected a timestamp like 2030-01-31T00:00:00.000Z, got "2030-01-01"',
    'Role.roleMembers[0].memberName: expected a string, got 5',
    'Role.extra: not a field of Role',
  ]);
  assert.deepEqual(check('ServiceIdentities', { list: [] }, 'S'), ['S.serviceMatchCount: required by ServiceIdentities, missing']);
  assert.deepEqual(check('Assertion', { role: 'r', resource: 'd:x', action: 'a', effect: 'MAYBE' }, 'A'), ['A.effect: expected one of ALLOW, DENY, got "MAYBE"']);
});
