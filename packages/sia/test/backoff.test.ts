/** Retry delays: exponential with equal jitter, scaled to the refresh interval, at least Retry-After; refresh before expiry, a little early at random. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, backoffPolicy, jitteredDelay, retryDelay } from '../src/backoff.ts';
import { retryAfterMs } from '../src/zts-client.ts';
import { nextRefreshMs } from '../src/daemon.ts';

test('the daily default: from 5 s, doubling, capped at 5 minutes', () => {
  const p = backoffPolicy(24 * 3_600_000);
  assert.deepEqual(p, { initialMs: 5_000, maxMs: 300_000 });
  const top = (n: number) => backoffDelay(n, p, () => 1);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 20].map(top), [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
});

test('jitter keeps each delay within [step/2, step]', () => {
  const p = backoffPolicy(24 * 3_600_000);
  assert.equal(backoffDelay(3, p, () => 0), 10_000);
  assert.equal(backoffDelay(3, p, () => 0.5), 15_000);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(4, p, Math.random);
    assert.ok(d >= 20_000 && d <= 40_000, String(d));
  }
});

test('short intervals back off proportionally and never wait longer than one interval', () => {
  const p = backoffPolicy(2_000);
  assert.deepEqual(p, { initialMs: 500, maxMs: 2_000 });
  assert.equal(backoffDelay(10, p, () => 1), 2_000);
  assert.equal(backoffDelay(1000, p, () => 1), 2_000, 'no overflow for long outages');
});

test('the next refresh: the interval, or half the remaining lifetime when that is sooner', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const day = 86_400_000;
  assert.equal(nextRefreshMs(day, now, new Date(now.getTime() + 7 * day)), day);
  assert.equal(nextRefreshMs(day, now, new Date(now.getTime() + 3_600_000)), 1_800_000);
  assert.equal(nextRefreshMs(day, now, new Date(now.getTime() - 1)), 1_000, 'at least a second');
});

test('scheduled refreshes come up to 10% early, never late', () => {
  assert.equal(jitteredDelay(86_400_000, () => 0), 86_400_000);
  assert.equal(jitteredDelay(86_400_000, () => 1), 86_400_000 * 0.9);
  for (let i = 0; i < 100; i++) {
    const d = jitteredDelay(1_000_000, Math.random);
    assert.ok(d >= 900_000 && d <= 1_000_000, String(d));
  }
});

test('a retry waits for ZTS\'s Retry-After when it is longer than the backoff, capped at an hour', () => {
  const p = backoffPolicy(24 * 3_600_000);
  assert.equal(retryDelay(1, p, () => 1), 5_000);
  assert.equal(retryDelay(1, p, () => 1, 120_000), 120_000);
  assert.equal(retryDelay(7, p, () => 1, 1_000), 300_000, 'a short Retry-After does not shorten the backoff');
  assert.equal(retryDelay(1, p, () => 1, 86_400_000), 3_600_000);
  assert.equal(retryAfterMs('30'), 30_000);
  assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:30 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')), 30_000);
  assert.equal(retryAfterMs('soon'), undefined);
  assert.equal(retryAfterMs(undefined), undefined);
});
