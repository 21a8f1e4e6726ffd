/**
 * Attacks on sign-in and user tokens, through the real HTTP interface, on
 * SQLite and PostgreSQL (throttle counters and revocations live in the store):
 *
 * - guessing passwords is throttled per user and per client address (429 + Retry-After),
 *   parallel guesses included (each attempt is counted before its password is
 *   checked), with one process and with `--workers 2`; signing in to one's own
 *   account does not reset the address's count of guesses at others;
 * - every failed sign-in is in the user domain's audit history;
 * - a logged-out session cookie, a logged-out bearer token and the tokens of an
 *   old password no longer work;
 * - a tampered or re-encoded token is refused (expired and forged ones: zms-denials.test.ts);
 * - a malformed session cookie is a 401, not a 500;
 * - every answer carries Strict-Transport-Security.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpsJson, type HttpsResponse } from '@tessera/core/https-client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startTestPostgres, type TestPostgres } from '@tessera/store/test/support/postgres';
import { ADMIN_PASSWORD, BACKENDS, startTestServer, type TestServer } from '../../packages/server/test/support/test-server.ts';
import { startServeProcess, type ServeProcess } from '../../packages/server/test/support/serve-process.ts';

type Msg = { code: number; message: string };

/** Where a server is; `from` is the loopback address the client sends from (each throttle test its own). */
type Target = { url: string; ca: string };

function basic(t: Target, user: string, password: string, from?: string): Promise<HttpsResponse<Msg & { token: string }>> {
  return httpsJson({
    url: `${t.url}/user/_self_/token`,
    ca: t.ca,
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    ...(from ? { localAddress: from } : {}),
  });
}

function session(t: Target, user: string, password: string, from?: string): Promise<HttpsResponse<Msg & { csrfToken: string }>> {
  return httpsJson({ method: 'POST', url: `${t.url}/session`, ca: t.ca, body: { user, password }, ...(from ? { localAddress: from } : {}) });
}

/** 18 wrong passwords for one user at once: how many were checked (401) and refused unchecked (429). */
async function parallelGuesses(t: Target, user: string, from: string): Promise<{ 401: number; 429: number }> {
  const results = await Promise.all(Array.from({ length: 18 }, (_, i) => basic(t, user, `parallel-guess-${i}`, from)));
  const count = (status: number) => results.filter((r) => r.status === status).length;
  assert.equal(count(401) + count(429), 18, results.map((r) => `${r.status} ${r.text}`).join('\n'));
  return { 401: count(401), 429: count(429) };
}

function withToken(t: TestServer, token: string, path = '/domain'): Promise<HttpsResponse<Msg>> {
  return httpsJson({ url: `${t.url}${path}`, ca: t.ca, headers: { authorization: `Bearer ${token}` } });
}

function retryAfter(res: HttpsResponse<unknown>): number {
  return Number(res.headers['retry-after']);
}

for (const backend of BACKENDS) {
  describe(`sign-in attacks on ${backend}`, () => {
    let t: TestServer;
    before(async () => {
      t = await startTestServer(backend);
      await t.user('jane');
    });
    after(() => t?.close());

    test('guessing one user\'s password: five failures are 401, then 429 with Retry-After even for the right password; a success resets', async () => {
      await t.user('victim');
      const from = '127.0.0.2';
      for (let i = 1; i <= 5; i++) {
        const res = await basic(t, 'victim', `guess-${i}`, from);
        assert.equal(res.status, 401, `attempt ${i}: ${res.text}`);
        assert.equal(res.body.message, 'Invalid user name or password');
      }
      const blocked = await basic(t, 'victim', 'victim-password', from);
      assert.equal(blocked.status, 429, blocked.text);
      assert.match(blocked.body.message, /Too many failed sign-ins for user\.victim or from .+: try again in \d+ seconds/);
      assert.equal(blocked.body.code, 429);
      assert.ok(retryAfter(blocked) >= 1, `Retry-After ${blocked.headers['retry-after']}`);
      // The UI's sign-in is the same door.
      const viaUi = await session(t, 'victim', 'victim-password', from);
      assert.equal(viaUi.status, 429);

      await sleep(retryAfter(blocked) * 1000 + 100);
      const ok = await basic(t, 'victim', 'victim-password', from);
      assert.equal(ok.status, 200, ok.text);
      const again = await basic(t, 'victim', 'wrong-again', from);
      assert.equal(again.status, 401, 'a success resets the count: the next failure is free again');
    });

    test('the delay grows with each failure past the free ones', async () => {
      await t.user('grower');
      const from = '127.0.0.3';
      for (let i = 0; i < 5; i++) await basic(t, 'grower', 'nope', from);
      const first = await basic(t, 'grower', 'nope', from);
      assert.equal(first.status, 429);
      await sleep(retryAfter(first) * 1000 + 100);
      assert.equal((await basic(t, 'grower', 'still-wrong', from)).status, 401);
      const second = await basic(t, 'grower', 'nope', from);
      assert.equal(second.status, 429);
      assert.ok(retryAfter(second) > retryAfter(first), `delay ${retryAfter(second)} should exceed ${retryAfter(first)}`);
      await sleep(retryAfter(second) * 1000 + 100);
      assert.equal((await basic(t, 'grower', 'grower-password', from)).status, 200);
    });

    test('password spraying from one address across many users is throttled by address', async () => {
      const from = '127.0.0.4';
      // 20 free failures per address, each against another (unknown) user.
      for (let i = 0; i < 20; i++) {
        const res = await session(t, `nobody${i}`, 'Winter2026!', from);
        assert.equal(res.status, 401, `spray ${i}: ${res.text}`);
      }
      const blocked = await session(t, 'jane', 'jane-password', from);
      assert.equal(blocked.status, 429, 'the address is blocked even for a correct password');
      assert.match(blocked.body.message, /from 127\.0\.0\.4/);
      await sleep(retryAfter(blocked) * 1000 + 100);
      assert.equal((await session(t, 'jane', 'jane-password', from)).status, 200);
    });

    test('signing in to one\'s own account between guesses does not reset the address\'s count', async () => {
      const from = '127.0.0.5';
      for (let i = 0; i < 19; i++) assert.equal((await basic(t, `sprayed${i}`, 'Spring2026!', from)).status, 401, `guess ${i}`);
      const own = await basic(t, 'jane', 'jane-password', from);
      assert.equal(own.status, 200, own.text);
      // The success took back only its own attempt: the 20th guess is the last free one, the next ones are blocked.
      const next = [];
      for (let i = 19; i < 24; i++) next.push((await basic(t, `sprayed${i}`, 'Spring2026!', from)).status);
      assert.equal(next[0], 401, `the success itself is not counted as a failure: ${next}`);
      assert.ok(next.includes(429), `five more guesses after signing in are throttled: ${next}`);
    });

    test('18 parallel wrong passwords for one user: only five are checked, the rest are 429', async () => {
      await t.user('parallel');
      assert.deepEqual(await parallelGuesses(t, 'parallel', '127.0.0.6'), { 401: 5, 429: 13 });
      const history = await t.admin.call<{ entries: { api: string; principal: string }[] }>('GET', '/domain/user/history');
      const checked = history.body.entries.filter((e) => e.api === 'signInFailed' && e.principal === 'user.parallel');
      assert.equal(checked.length, 5, 'five failures in the audit history: no more passwords were checked');
    });

    test('failed sign-ins are in the user domain\'s audit history', async () => {
      await basic(t, 'jane', 'not-her-password');
      const history = await t.admin.call<{ entries: { api: string; principal: string; details: Record<string, unknown> }[] }>('GET', '/domain/user/history');
      assert.equal(history.status, 200, history.text);
      const entry = history.body.entries.find((e) => e.api === 'signInFailed' && e.principal === 'user.jane');
      assert.ok(entry, JSON.stringify(history.body).slice(0, 500));
      assert.equal(entry.details.clientIp, '127.0.0.1');
      assert.ok(Number(entry.details.failures) >= 1);
      assert.ok(!JSON.stringify(history.body).includes('not-her-password'), 'the password never reaches the audit log');
      assert.equal((await basic(t, 'jane', 'jane-password')).status, 200);
    });

    test('logging out revokes the session cookie: the old cookie is 401 afterwards', async () => {
      const login = await session(t, 'jane', 'jane-password');
      assert.equal(login.status, 200, login.text);
      const cookie = (login.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]).join('; ');
      const get = () => httpsJson<Msg>({ url: `${t.url}/domain`, ca: t.ca, headers: { cookie } });
      assert.equal((await get()).status, 200);
      const out = await httpsJson({ method: 'DELETE', url: `${t.url}/session`, ca: t.ca, headers: { cookie, 'x-csrf-token': login.body.csrfToken } });
      assert.equal(out.status, 204);
      const replay = await get();
      assert.equal(replay.status, 401);
      assert.match(replay.body.message, /session has expired: log in again/);
    });

    test('DELETE /session with a bearer token revokes that token', async () => {
      const login = await basic(t, 'jane', 'jane-password');
      const token = login.body.token;
      assert.equal((await withToken(t, token)).status, 200);
      const out = await httpsJson({ method: 'DELETE', url: `${t.url}/session`, ca: t.ca, headers: { authorization: `Bearer ${token}` } });
      assert.equal(out.status, 204);
      const replay = await withToken(t, token);
      assert.equal(replay.status, 401);
      assert.match(replay.body.message, /Authentication required/);
    });

    test('a password change revokes every earlier token of that user; a token of the new password works at once', async () => {
      const jack = await t.user('jack');
      const older = jack.token;
      const second = (await basic(t, 'jack', 'jack-password')).body.token;
      const change = await jack.call('PUT', '/user/jack/password', { password: 'jack-new-password' });
      assert.equal(change.status, 204, change.text);
      for (const token of [older, second]) {
        const res = await withToken(t, token);
        assert.equal(res.status, 401, 'a token of the old password');
      }
      const fresh = await basic(t, 'jack', 'jack-new-password');
      assert.equal(fresh.status, 200, fresh.text);
      assert.equal((await withToken(t, fresh.body.token)).status, 200, 'issued in the same second as the change, still valid');
      assert.equal((await basic(t, 'jack', 'jack-password')).status, 401, 'the old password is gone');
    });

    test('a token with anything after its signature, or re-encoded, is refused', async () => {
      const { token } = (await basic(t, 'jane', 'jane-password')).body;
      assert.equal((await withToken(t, token)).status, 200);
      const signature = token.slice(token.lastIndexOf(';s=') + 3);
      const variants = [
        `${token}x`,
        `${token}=`,
        `${token}==`,
        `${token}.`,
        `${token};s=${signature}`,
        token.replace(`;s=${signature}`, `;s=${Buffer.from(signature, 'base64url').toString('base64')}`),
        token.replace('v=U1;', 'v=U1;v=U1;'),
        token.replace(/;e=(\d+)/, (_m, e: string) => `;e=${Number(e) + 3600}`),
      ].filter((v) => v !== token);
      for (const v of variants) {
        const res = await withToken(t, v);
        assert.equal(res.status, 401, `accepted a tampered token: ${v}`);
      }
    });

    test('a token signed with the server key is still refused when oversized, malformed or missing a claim', async () => {
      const key = createPrivateKey(readFileSync(join(t.dataDir, 'zms.key.pem')));
      const signed = (unsigned: string) => `${unsigned};s=${createSign('sha256').update(unsigned).sign(key).toString('base64url')}`;
      const now = Math.floor(Date.now() / 1000);
      const claims = `d=user;n=admin;a=0011;t=${now};e=${now + 600};k=0`;
      // The hand-made token is accepted with every claim present: each refusal below is the one change.
      assert.equal((await withToken(t, signed(`v=U1;${claims}`))).status, 200);
      const refused = {
        'over 4096 characters': signed(`v=U1;${claims};x=${'a'.repeat(4096)}`),
        'no signature': `v=U1;${claims}`,
        'a field without a value': signed(`v=U1;${claims};x=`),
        'another version': signed(`v=U2;${claims}`),
        'no domain': signed(`v=U1;${claims.replace('d=user;', '')}`),
        'no name': signed(`v=U1;${claims.replace('n=admin;', '')}`),
        'a fractional issue time': signed(`v=U1;${claims.replace(`t=${now}`, `t=${now}.5`)}`),
        'no expiry': signed(`v=U1;${claims.replace(`;e=${now + 600}`, '')}`),
      };
      for (const [why, token] of Object.entries(refused)) {
        const res = await withToken(t, token);
        assert.equal(res.status, 401, `${why}: ${res.text}`);
        assert.match(res.body.message, /^Authentication required/, why);
      }
    });

    test('a change with a session cookie but no CSRF cookie is refused, even with a CSRF header', async () => {
      const login = await session(t, 'jane', 'jane-password');
      assert.equal(login.status, 200, login.text);
      const sessionCookie = (login.headers['set-cookie'] as string[]).find((c) => c.startsWith('tessera_session='))!.split(';')[0];
      const res = await httpsJson<Msg>({ method: 'POST', url: `${t.url}/domain`, ca: t.ca, body: { name: 'nocsrf', adminUsers: ['user.jane'] }, headers: { cookie: sessionCookie, 'x-csrf-token': login.body.csrfToken } });
      assert.equal(res.status, 403, res.text);
      assert.equal(res.body.message, 'CSRF token missing or wrong: reload the page and try again');
    });

    test('a malformed session cookie is a 401 on every authenticated endpoint', async () => {
      for (const path of ['/domain', '/domain/sports', '/principal']) {
        const res = await httpsJson<Msg>({ url: `${t.url}${path}`, ca: t.ca, headers: { cookie: 'tessera_session=%E0%A4%A' } });
        assert.equal(res.status, 401, `${path}: ${res.text}`);
        assert.equal(res.body.code, 401);
      }
    });

    test('ZMS, ZTS and the UI send Strict-Transport-Security', async () => {
      const zmsRes = await httpsJson({ url: `${t.url}/domain`, ca: t.ca });
      const ztsRes = await httpsJson({ url: `${t.server.ztsUrl}/cacerts/athenz`, ca: t.ca });
      const uiRes = await httpsJson({ url: new URL('/', t.url).href, ca: t.ca });
      for (const res of [zmsRes, ztsRes, uiRes]) assert.match(String(res.headers['strict-transport-security']), /^max-age=\d{7,}/);
    });

    test('the admin still signs in after all of the above', async () => {
      assert.equal((await basic(t, 'admin', ADMIN_PASSWORD)).status, 200);
    });
  });
}

for (const backend of BACKENDS) {
  describe(`parallel guessing across two workers on ${backend}`, () => {
    let server: ServeProcess;
    let pg: TestPostgres | undefined;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tessera-signin-workers-'));
      pg = backend === 'postgres' ? await startTestPostgres() : undefined;
      server = await startServeProcess(join(dir, 'data'), ['--workers', '2', ...(pg ? ['--db', pg.url] : [])]);
    });
    after(async () => {
      await server?.stop();
      await pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('18 parallel wrong passwords for one user: only five are checked, whichever worker takes each', async () => {
      const admin = await server.admin();
      const created = await admin('PUT', '/user/target/password', { password: 'target-password' });
      assert.equal(created.status, 204, JSON.stringify(created.body));
      assert.deepEqual(await parallelGuesses({ url: server.zmsUrl, ca: server.ca }, 'target', '127.0.0.7'), { 401: 5, 429: 13 });
    });
  });
}
