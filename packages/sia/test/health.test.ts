/** The health endpoint: /status while every certificate is valid, /certs with expiry and failures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthState } from '../src/health.ts';
import { startHealthServer } from '../src/health-server.ts';

test('status follows the earliest expiry; certs lists refreshes and failures; only GET', async () => {
  let now = new Date('2030-01-01T00:00:00Z');
  const state = new HealthState();
  const server = await startHealthServer(0, state, () => now, '127.0.0.1');
  const url = `http://127.0.0.1:${server.port}`;
  try {
    assert.equal((await fetch(`${url}/status`)).status, 503, 'nothing tracked yet');
    state.track('sports.api', undefined);
    assert.equal((await fetch(`${url}/status`)).status, 503, 'no certificate yet');
    state.refreshed('sports.api', new Date('2030-01-08T00:00:00Z'), now);
    state.refreshed('sports:role.readers', new Date('2030-01-02T00:00:00Z'), now);
    assert.equal((await fetch(`${url}/status`)).status, 200);
    state.failed('sports.api', 'cannot reach ZTS', new Date('2030-01-01T12:00:00Z'));
    assert.deepEqual(await (await fetch(`${url}/certs`)).json(), {
      'sports.api': {
        expiry_time: '2030-01-08T00:00:00.000Z', last_refresh_time: '2030-01-01T00:00:00.000Z',
        last_failure_time: '2030-01-01T12:00:00.000Z', last_failure_error: 'cannot reach ZTS',
      },
      'sports:role.readers': { expiry_time: '2030-01-02T00:00:00.000Z', last_refresh_time: '2030-01-01T00:00:00.000Z' },
    });
    const metrics = await fetch(`${url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    assert.match(text, /^siad_certificate_expiry_seconds\{name="sports\.api"\} 604800$/m, 'seven days left');
    assert.match(text, /^siad_certificate_expiry_seconds\{name="sports:role\.readers"\} 86400$/m);
    assert.match(text, /^siad_refresh_total\{name="sports\.api",result="success"\} 1$/m);
    assert.match(text, /^siad_refresh_total\{name="sports\.api",result="failure"\} 1$/m);
    assert.match(text, /^siad_refresh_total\{name="sports:role\.readers",result="failure"\} 0$/m);
    assert.match(text, /^siad_last_error_timestamp_seconds\{name="sports\.api"\} 1893499200$/m);
    assert.doesNotMatch(text, /siad_last_error_timestamp_seconds\{name="sports:role/);
    now = new Date('2030-01-03T00:00:00Z');
    assert.match(await (await fetch(`${url}/metrics`)).text(), /^siad_certificate_expiry_seconds\{name="sports:role\.readers"\} -86400$/m, 'expired a day ago');
    assert.equal((await fetch(`${url}/status`)).status, 503, 'the role certificate expired');
    assert.equal((await fetch(`${url}/status`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`${url}/other`)).status, 404);
  } finally {
    await server.close();
  }
});

test('a port in use is a clear error', async () => {
  const first = await startHealthServer(0, new HealthState(), () => new Date(), '127.0.0.1');
  try {
    await assert.rejects(startHealthServer(first.port, new HealthState(), () => new Date(), '127.0.0.1'), /health endpoint cannot listen on port \d+/);
  } finally {
    await first.close();
  }
});
