/** Retry delays: exponential with equal jitter, scaled to the refresh interval; refresh before expiry. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, backoffPolicy } from '../src/backoff.ts';
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
