/**
 * The calls Athenz's own UI (ui/ of AthenZ/athenz) makes, in its shapes,
 * against a real `tessera serve` started as its dev setup needs it
 * (--authorized-services athenz.ui-server, --cors-origins <the UI's origin>):
 *
 * 1. The login page's exchange, from the UI's origin in real Chromium: its
 *    `fetch` of `user/_self_/token?services=athenz.ui-server` with Basic
 *    credentials (a CORS preflight, then the GET).
 * 2. The UI server's token check, written here from Athenz's rules
 *    (auth_core's PrincipalToken and PrincipalAuthority): YBase64 signature
 *    checked with the `sys.auth.zms` key as the UI's athenz.conf publishes it,
 *    the timestamp window, `b=` naming the UI, the UI's own `bk`/`bs`
 *    signature on top. Failure cases: another service, a service off the
 *    allow-list, a bad `bs`, an expired token.
 * 3. The UI server's calls on the user's behalf with the token it signed on
 *    top: the page header reads and the guides' pages (home, roles, services,
 *    add service, policies, instances deletion on ZTS).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, createSign, createVerify, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { httpsJson } from '@tessera/core/https-client';
import { freePort } from '@tessera/core/free-port';
import { startServeProcess, type ServeProcess } from '@tessera/server/test/support/serve-process';

const CHROMIUM = '/usr/bin/chromium';
const UI_SERVICE = 'athenz.ui-server';
const OTHER_SERVICE = 'athenz.other-ui';

// ---- Athenz's token rules, written from auth_core (never Tessera's code) ----

const yDecode = (v: string) => Buffer.from(v.replace(/\./g, '+').replace(/_/g, '/').replace(/-/g, '='), 'base64');
const yEncode = (b: Buffer) => b.toString('base64').replace(/\+/g, '.').replace(/\//g, '_').replace(/=/g, '-');

/** What the UI server does with the token from the login page (AuthStrategy.signToken): `;bk=<version>`, then its signature. */
function uiSignToken(token: string, key: KeyObject, version = '0'): string {
  const data = `${token};bk=${version}`;
  return `${data};bs=${yEncode(createSign('sha256').update(data).sign(key))}`;
}

/** Athenz's key store as the UI has it: sys.auth.zms keys from athenz.conf, its own key for its own service. */
type KeyStore = (domain: string, service: string, keyId: string) => KeyObject | undefined;

/** PrincipalToken parsing + PrincipalAuthority.authenticate, for a GET: the user, or why it is refused. */
function athenzAuthenticate(signedToken: string, keys: KeyStore, nowSeconds: number): { principal: string; authorizedService?: string } | { refused: string } {
  const idx = signedToken.indexOf(';s=');
  if (idx < 0) return { refused: 'no signature' };
  const unsigned = signedToken.slice(0, idx);
  let signature: string;
  let serviceTail: string | undefined;
  const authzIdx = signedToken.indexOf(';', idx + 3);
  if (authzIdx !== -1 && signedToken.indexOf(';bs=', idx + 3) !== -1) {
    signature = signedToken.slice(idx + 3, authzIdx);
    serviceTail = signedToken.slice(authzIdx);
  } else {
    signature = signedToken.slice(idx + 3);
  }
  const f: Record<string, string> = {};
  for (const item of unsigned.split(';')) {
    const kv = item.split('=');
    if (kv.length === 2) f[kv[0]!] = kv[1]!;
  }
  const services = f.b?.split(',');
  let bs: string | undefined;
  let bk = '0';
  let bn: string | undefined;
  if (serviceTail) {
    const at = serviceTail.indexOf(';bs=');
    bs = serviceTail.slice(at + 4);
    for (const item of serviceTail.slice(0, at).split(';')) {
      const kv = item.split('=');
      if (kv.length === 2 && kv[0] === 'bk') bk = kv[1]!;
      if (kv.length === 2 && kv[0] === 'bn') bn = kv[1]!;
    }
  }
  if (!f.d || !f.n) return { refused: 'no domain or name' };
  // isValidAuthorizedServiceToken
  if (!services && bs) return { refused: 'service signature without b=' };
  if (services && !bs) return { refused: 'b= without the service signature' };
  if (services && (bn ? !services.includes(bn) : services.length !== 1)) return { refused: 'authorized service not named' };
  // getPublicKey: a user token is checked with ZMS's key
  const key = f.d === 'user' ? keys('sys.auth', 'zms', f.k ?? '0') : keys(f.d, f.n, f.k ?? '0');
  if (!key) return { refused: 'no public key' };
  // Token.validate: 300 s allowed offset, at most 30 days ahead
  const t = Number(f.t ?? 0);
  const e = Number(f.e ?? 0);
  if (t !== 0 && t - 300 > nowSeconds) return { refused: 'future timestamp' };
  if (e < nowSeconds) return { refused: 'expired' };
  if (e > nowSeconds + 30 * 86400 + 300) return { refused: 'expires too far ahead' };
  if (!createVerify('sha256').update(unsigned).verify(key, yDecode(signature))) return { refused: 'signature' };
  let authorizedService: string | undefined;
  if (bs) {
    const name = bn ?? services![0]!;
    const dot = name.lastIndexOf('.');
    const serviceKey = keys(name.slice(0, dot), name.slice(dot + 1), bk);
    if (!serviceKey) return { refused: `no key for authorized service ${name}` };
    const signedPart = signedToken.slice(0, signedToken.indexOf(';bs='));
    if (!createVerify('sha256').update(signedPart).verify(serviceKey, yDecode(bs))) return { refused: 'authorized service signature' };
    authorizedService = name;
  }
  return { principal: `${f.d}.${f.n}`.toLowerCase(), ...(authorizedService ? { authorizedService } : {}) };
}

// ---- the topology: tessera serve, the UI's service key, a page origin, Chromium ----

let serve: ServeProcess;
let dataDir: string;
let browser: Browser;
let page: Page;
let uiOrigin: string;
let otherOrigin: string;
const pages: Server[] = [];
const uiKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
/** The UI's athenz.conf `zmsPublicKeys`, as its dev setup writes them from ZMS's published key. */
let zmsPublicKeys: { id: string; key: string }[] = [];

const uiKeyStore: KeyStore = (domain, service, keyId) => {
  if (`${domain}.${service}` === 'sys.auth.zms') {
    const k = zmsPublicKeys.find((p) => p.id === keyId);
    return k ? createPublicKey(yDecode(k.key).toString()) : undefined;
  }
  return `${domain}.${service}` === UI_SERVICE ? uiKey.publicKey : undefined;
};
const now = () => Math.floor(Date.now() / 1000);
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function pageServer(): Promise<string> {
  const port = await freePort();
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>athenz ui</title>'));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  pages.push(server);
  return `http://localhost:${port}`;
}

/** ZMS as the UI server calls it for the logged-in user: its signed-on-top token in Athenz-Principal-Auth. */
const asUi = (method: string, path: string, token: string, body?: unknown) =>
  httpsJson<Record<string, unknown> & { message?: string }>({
    method, url: `${serve.zmsUrl}${path}`, ca: serve.ca,
    headers: { 'athenz-principal-auth': token, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
  });

/** The login page's own fetch (ui/src/pages/login.js onSubmit), run in the page. */
function loginFetch(p: Page, zmsLoginUrl: string, user: string, password: string): Promise<{ ok: boolean; token?: string; error?: string }> {
  return p.evaluate(
    async ([url, cred]) => {
      try {
        const res = await fetch(url, { headers: { Authorization: `Basic ${cred}` } });
        const json = (await res.json()) as { token?: string };
        return { ok: res.ok, ...(json.token ? { token: json.token } : {}) };
      } catch (e) {
        return { ok: false, error: String(e) };
      }
    },
    [`${zmsLoginUrl}user/_self_/token?services=${UI_SERVICE}`, Buffer.from(`${user}:${password}`).toString('base64')] as const,
  );
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run bash scripts/setup.sh (it installs Debian's chromium)`);
  uiOrigin = await pageServer();
  otherOrigin = await pageServer();
  dataDir = mkdtempSync(join(tmpdir(), 'tessera-athenz-ui-'));
  serve = await startServeProcess(dataDir, ['--authorized-services', `${UI_SERVICE},${OTHER_SERVICE}`, '--cors-origins', uiOrigin]);
  const admin = await serve.admin();
  // The UI's dev setup: its service in domain athenz with public key 0, and a user.
  for (const [name, key] of [['ui-server', uiKey.publicKey], ['other-ui', otherKey.publicKey], ['not-listed', uiKey.publicKey]] as const) {
    const res = await admin('PUT', `/domain/athenz/service/${name}`, { name: `athenz.${name}`, publicKeys: [{ id: '0', key: yEncode(Buffer.from(key.export({ type: 'spki', format: 'pem' }).toString())) }] });
    assert.equal(res.status, 204, res.text);
  }
  assert.equal((await admin('PUT', '/user/jane/password', { password: 'jane-password' })).status, 204);
  assert.equal((await admin('PUT', '/user/bob/password', { password: 'bob-password' })).status, 204);
  assert.equal((await admin('POST', '/domain', { name: 'sports', adminUsers: ['user.jane'] })).status, 200);
  assert.equal((await admin('POST', '/domain', { name: 'weather', adminUsers: ['user.admin'] })).status, 200);
  assert.equal((await admin('PUT', '/domain/weather/role/readers', { name: 'weather:role.readers', roleMembers: [{ memberName: 'user.jane' }] })).status, 204);
  // athenz.conf: zmsPublicKeys as ZMS publishes them for sys.auth.zms.
  const zms = await admin('GET', '/domain/sys.auth/service/zms');
  zmsPublicKeys = (zms.body as { publicKeys: { id: string; key: string }[] }).publicKeys;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    headless: true,
  });
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  page = await context.newPage();
  await page.goto(uiOrigin);
});

after(async () => {
  await browser?.close();
  await serve?.stop();
  for (const s of pages) s.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const zmsLoginUrl = () => `${serve.zmsUrl}/`;

describe('the login exchange from the UI origin, in Chromium', () => {
  test('the preflight and the GET pass CORS; the token names the UI service', async () => {
    const res = await loginFetch(page, zmsLoginUrl(), 'jane', 'jane-password');
    assert.equal(res.ok, true, res.error);
    assert.match(res.token!, /^v=U1;d=user;n=jane;a=[0-9a-f]+;t=\d+;e=\d+;k=0;b=athenz\.ui-server;s=[A-Za-z0-9._-]+$/);
    // The preflight the browser sent, as Chromium shapes it: answered for the UI's origin, GET only.
    const preflight = await httpsJson({
      method: 'OPTIONS', url: `${serve.zmsUrl}/user/_self_/token?services=${UI_SERVICE}`, ca: serve.ca,
      headers: { origin: uiOrigin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], uiOrigin);
    assert.equal(preflight.headers['access-control-allow-methods'], 'GET');
    assert.equal(preflight.headers['access-control-allow-headers'], 'authorization');
  });

  test('a wrong password reaches the page as a 401 it can read; another origin and other paths are blocked by the browser', async () => {
    const wrong = await loginFetch(page, zmsLoginUrl(), 'jane', 'nope');
    assert.deepEqual(wrong, { ok: false }, 'a readable refusal, not a network error');
    const other = await browser.newPage({ ignoreHTTPSErrors: true });
    try {
      await other.goto(otherOrigin);
      const res = await loginFetch(other, zmsLoginUrl(), 'jane', 'jane-password');
      assert.equal(res.ok, false);
      assert.match(res.error ?? '', /Failed to fetch/);
    } finally {
      await other.close();
    }
    const token = (await loginFetch(page, zmsLoginUrl(), 'jane', 'jane-password')).token!;
    const readDomains = await page.evaluate(async ([url, t]) => {
      try {
        await fetch(url, { headers: { 'Athenz-Principal-Auth': t } });
        return 'read';
      } catch (e) {
        return String(e);
      }
    }, [`${serve.zmsUrl}/domain`, uiSignToken(token, uiKey.privateKey)] as const);
    assert.match(readDomains, /Failed to fetch/, 'no CORS beyond the token exchange');
  });
});

describe("the UI server's token check (Athenz's rules)", () => {
  let token: string;
  before(async () => {
    token = (await loginFetch(page, zmsLoginUrl(), 'jane', 'jane-password')).token!;
  });

  test('a Tessera token, signed on top by the UI, is user.jane through athenz.ui-server', () => {
    assert.deepEqual(athenzAuthenticate(uiSignToken(token, uiKey.privateKey), uiKeyStore, now()), { principal: 'user.jane', authorizedService: UI_SERVICE });
    // Without the UI's signature the UI would send the user back to /login, as Athenz does.
    assert.deepEqual(athenzAuthenticate(token, uiKeyStore, now()), { refused: 'b= without the service signature' });
  });

  test('refused: a token for another service, a service off the allow-list, a bad bs, an expired token', async () => {
    // Another service: ZMS issues it (on the allow-list), but the UI cannot carry it, and neither does ZMS.
    const forOther = await httpsJson<{ token: string }>({ url: `${serve.zmsUrl}/user/_self_/token?services=${OTHER_SERVICE}`, ca: serve.ca, headers: { authorization: basic('jane', 'jane-password') } });
    assert.equal(forOther.status, 200);
    const otherSigned = uiSignToken(forOther.body.token, uiKey.privateKey);
    assert.deepEqual(athenzAuthenticate(otherSigned, uiKeyStore, now()), { refused: `no key for authorized service ${OTHER_SERVICE}` });
    assert.equal((await asUi('GET', '/domain', otherSigned)).status, 401);
    // A service off the allow-list: ZMS does not issue the token at all.
    const offList = await httpsJson<{ message: string }>({ url: `${serve.zmsUrl}/user/_self_/token?services=athenz.not-listed`, ca: serve.ca, headers: { authorization: basic('jane', 'jane-password') } });
    assert.equal(offList.status, 401);
    assert.match(offList.body.message, /Service athenz\.not-listed is not authorized in ZMS/);
    // A bad bs: signed by another key.
    const badBs = uiSignToken(token, otherKey.privateKey);
    assert.deepEqual(athenzAuthenticate(badBs, uiKeyStore, now()), { refused: 'authorized service signature' });
    assert.equal((await asUi('GET', '/domain', badBs)).status, 401);
    // Expired: the same rules, with the server's key, an hour in the past.
    const zmsKey = createPrivateKey(readFileSync(join(dataDir, 'zms.key.pem')));
    const old = `v=U1;d=user;n=jane;a=0a0b;t=${now() - 7200};e=${now() - 3600};k=0;b=${UI_SERVICE}`;
    const expired = uiSignToken(`${old};s=${yEncode(createSign('sha256').update(old).sign(zmsKey))}`, uiKey.privateKey);
    assert.deepEqual(athenzAuthenticate(expired, uiKeyStore, now()), { refused: 'expired' });
    assert.equal((await asUi('GET', '/domain', expired)).status, 401);
    // The same token an hour from now would be fine: the only fault is its age.
    assert.equal('principal' in athenzAuthenticate(expired, uiKeyStore, now() - 5400), true);
  });
});

describe("the UI server's calls for the user (signed-on-top token)", () => {
  let ui: string;
  before(async () => {
    ui = uiSignToken((await loginFetch(page, zmsLoginUrl(), 'jane', 'jane-password')).token!, uiKey.privateKey);
  });

  test('home: the user domains and admin domains, pending members and reviews in the header', async () => {
    const member = await asUi('GET', '/domain?member=user.jane', ui);
    assert.deepEqual(member.body.names, ['sports', 'weather']);
    const adminOf = await asUi('GET', '/domain?member=user.jane&role=admin', ui);
    assert.deepEqual(adminOf.body.names, ['sports'], 'role=admin lists only the domains jane administers');
    assert.deepEqual((await asUi('GET', '/pending_members?principal=user.jane', ui)).body, { domainRoleMembersList: [] });
    assert.deepEqual((await asUi('GET', '/pending_group_members?principal=user.jane', ui)).body, { domainGroupMembersList: [] });
    assert.deepEqual((await asUi('GET', '/review/role?principal=user.jane', ui)).body, { list: [] });
    assert.deepEqual((await asUi('GET', '/review/group?principal=user.jane', ui)).body, { list: [] });
    assert.equal((await asUi('GET', '/review/role?principal=user.bob', ui)).status, 403, "not another user's list");
  });

  test('the domain header: domain, meta store values, authority attributes, templates', async () => {
    const domain = await asUi('GET', '/domain/sports', ui);
    assert.equal(domain.status, 200);
    assert.equal(domain.body.name, 'sports');
    assert.deepEqual((await asUi('GET', '/domain/metastore?attribute=businessService&user=user.jane', ui)).body, { validValues: [] });
    assert.deepEqual((await asUi('GET', '/authority/user/attribute', ui)).body, { attributes: { bool: { values: [] }, date: { values: [] } } });
    assert.equal((await asUi('GET', '/domain/sports/templatedetails', ui)).status, 200);
  });

  test('roles, services, add service, policies; a write by the user through the UI', async () => {
    const roles = await asUi('GET', '/domain/sports/roles?members=true&tagKey=&tagValue=', ui);
    assert.equal(roles.status, 200);
    assert.ok((roles.body.list as { name: string }[]).some((r) => r.name === 'sports:role.admin'));
    const add = await asUi('PUT', '/domain/sports/service/api', ui, { name: 'sports.api', description: 'added in the UI' });
    assert.equal(add.status, 204, add.text);
    const services = await asUi('GET', '/domain/sports/services?publickeys=true&hosts=true', ui);
    assert.deepEqual((services.body.list as { name: string }[]).map((s) => s.name), ['sports.api']);
    const policies = await asUi('GET', '/domain/sports/policies?assertions=true&includeNonActive=true', ui);
    assert.equal(policies.status, 200);
    // The Policies page shows only versions marked active (and reads the active one's modified date).
    const admin = (policies.body.list as { name: string; version?: string; active?: boolean }[]).find((p) => p.name === 'sports:policy.admin');
    assert.deepEqual([admin?.version, admin?.active], ['0', true]);
    const history = await asUi('GET', '/domain/sports/history', ui);
    assert.equal(history.status, 200);
    // The write is jane's (the UI only carries her token): bob's would be refused.
    const bob = await httpsJson<{ token: string }>({ url: `${serve.zmsUrl}/user/_self_/token?services=${UI_SERVICE}`, ca: serve.ca, headers: { authorization: basic('bob', 'bob-password') } });
    const bobUi = uiSignToken(bob.body.token, uiKey.privateKey);
    assert.equal((await asUi('PUT', '/domain/sports/service/web', bobUi, { name: 'sports.web' })).status, 403);
  });

  test('Add Key: the key as the UI sends it (re-wrapped with a blank line before END) is kept, and usable', async () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    // ServiceKeyUtils.trimKey, then y64Encode (ui/src/components/utils/ServiceKeyUtils.js): the pasted key's last newline stays inside.
    const body = pem.replace('-----BEGIN PUBLIC KEY-----', '').replace('-----END PUBLIC KEY-----', '').replace(/ /g, '\n');
    const sent = `-----BEGIN PUBLIC KEY-----${body}-----END PUBLIC KEY-----`;
    assert.match(sent, /\n\n-----END/);
    const put = await asUi('PUT', '/domain/sports/service/api/publickey/k1', ui, { id: 'k1', key: yEncode(Buffer.from(sent)) });
    assert.equal(put.status, 204, put.text);
    const stored = await asUi('GET', '/domain/sports/service/api/publickey/k1', ui);
    assert.equal(stored.status, 200, stored.text);
    const storedPem = yDecode(stored.body.key as string).toString();
    assert.equal(storedPem, pem, 'kept in the standard layout, so every reader of the key can load it');
    // The first eight base64 characters after BEGIN, whatever they are (a pattern that needs letters can miss).
    const broken = sent.replace(/(-----BEGIN PUBLIC KEY-----\n)[A-Za-z0-9+/]{8}/, '$1!!!!!!!!');
    assert.notEqual(broken, sent);
    assert.equal((await asUi('PUT', '/domain/sports/service/api/publickey/k2', ui, { id: 'k2', key: yEncode(Buffer.from(broken)) })).status, 400);
  });

  test("instances: MSD's workload read (the Instances tab) answers the UI-signed token in msd.rdl's shape", async () => {
    const read = (token: string) => httpsJson<Record<string, unknown>>({
      method: 'POST', url: serve.zmsUrl.replace('/zms/v1', '/msd/v1') + '/workloads', ca: serve.ca,
      headers: { 'athenz-principal-auth': token, 'content-type': 'application/json' },
      body: { domainServices: [{ domainName: 'sports', serviceNames: ['api'] }], resolveStaticWorkloads: false, fetchDynamicTypeWorkloads: true },
    });
    const res = await read(ui);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { unmodifiedServices: [], workloads: { workloadList: [], dynamicWorkloadList: [], staticWorkloadList: [] } });
    assert.equal((await read(uiSignToken(ui.slice(0, ui.indexOf(';bk=')), otherKey.privateKey))).status, 401, 'a bad bs is refused here too');
  });

  test('instances: ZTS deletes an instance for the domain admin, with the UI-signed token', async () => {
    const del = await httpsJson<{ message: string }>({
      method: 'DELETE', url: `${serve.ztsUrl}/instance/athenz.aws.us-west-2/sports/api/i-0abc`, ca: serve.ca,
      headers: { 'athenz-principal-auth': ui },
    });
    assert.equal(del.status, 404, del.text);
    assert.match(del.body.message, /no instance i-0abc of sports\.api/);
  });
});
