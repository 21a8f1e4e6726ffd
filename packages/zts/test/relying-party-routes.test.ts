/**
 * relying-party-routes.ts failure paths served in-process (Fastify inject, no
 * socket): an internal fault at the token endpoint is a bare 500 that is
 * logged, a store outage makes /status a 503 with Retry-After, and without a
 * configured issuer the discovery documents give relative endpoints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { openStore } from '@tessera/store/open-store';
import type { ZtsContext } from '../src/context.ts';
import { relyingPartyRoutes } from '../src/http/relying-party-routes.ts';

/** The app with `ctx`, and the log lines it writes. */
async function serve(ctx: Partial<ZtsContext>) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const app = Fastify({ logger: { level: 'info', stream } });
  await app.register(async (scoped) => relyingPartyRoutes(scoped, ctx as ZtsContext));
  await app.ready();
  return { app, lines };
}

const NOW = new Date('2026-06-01T12:00:00Z');

test('an internal fault while serving /oauth2/token is a 500 server_error that reveals nothing, and is logged', async () => {
  const { app, lines } = await serve({
    config: { principalTokens: true } as ZtsContext['config'],
    now: () => NOW,
    snapshots: {
      get: () => {
        throw new Error('snapshot store unavailable at /var/lib/tessera/secret.db');
      },
    } as unknown as ZtsContext['snapshots'],
  });
  try {
    const res = await app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'athenz-principal-auth': 'v=U1;d=user;n=jane;h=localhost;a=abc;t=1780000000;e=1790000000;k=0;s=c2lnbmF0dXJl' },
      payload: 'grant_type=client_credentials&scope=sports:domain',
    });
    assert.equal(res.statusCode, 500, res.body);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual(res.json(), { error: 'server_error', error_description: 'Internal server error', code: 500, message: 'Internal server error' });
    const logged = lines.filter((l) => l.msg === 'token request failed');
    assert.equal(logged.length, 1, 'the fault is logged once');
    assert.match(JSON.stringify(logged[0].err), /snapshot store unavailable/);
    // A caller's mistake is answered, not logged as a failure.
    const empty = await app.inject({ method: 'POST', url: '/oauth2/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: ' ' });
    assert.equal(empty.statusCode, 400);
    assert.equal(lines.filter((l) => l.msg === 'token request failed').length, 1);
  } finally {
    await app.close();
  }
});

test('/status is OK while the store answers, and a 503 with Retry-After once it does not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-rp-status-'));
  const store = await openStore(join(dir, 'tessera.db'));
  const { app, lines } = await serve({ db: store.db });
  try {
    const ok = await app.inject({ method: 'GET', url: '/status' });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { code: 200, message: 'OK' });
    await store.close();
    const down = await app.inject({ method: 'GET', url: '/status' });
    assert.equal(down.statusCode, 503);
    assert.equal(down.headers['retry-after'], '30');
    assert.equal(down.json<{ message: string }>().message, 'Error - database unavailable; retry later');
    assert.ok(lines.some((l) => l.level === 40 && String(l.msg).startsWith('status: database unreachable: ')), 'logged as a warning');
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without a configured token issuer the discovery documents name relative endpoints', async () => {
  const published = [{ alg: 'ES256' }, { alg: 'RS256' }, { alg: 'ES256' }];
  const { app } = await serve({ config: {} as ZtsContext['config'], tokenKeys: { published } as unknown as ZtsContext['tokenKeys'] });
  try {
    const oidc = (await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' })).json<Record<string, unknown>>();
    assert.equal(oidc.issuer, '');
    assert.equal(oidc.token_endpoint, '/oauth2/token');
    assert.equal(oidc.jwks_uri, '/oauth2/keys?rfc=true');
    assert.deepEqual(oidc.id_token_signing_alg_values_supported, ['ES256', 'RS256']);
    const oauth = (await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' })).json<Record<string, unknown>>();
    assert.equal(oauth.issuer, '');
    assert.equal(oauth.authorization_endpoint, '/oauth2/auth');
  } finally {
    await app.close();
  }
});
