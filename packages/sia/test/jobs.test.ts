/** The job loop: due times with jitter, backoff after failures, Retry-After, jobs made due by others. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobLoop, type Job } from '../src/jobs.ts';

/** A clock the loop's sleep advances; random() fixed so delays are exact. */
function fakeClock(random = 0) {
  let t = 1_000_000;
  const slept: number[] = [];
  return {
    now: () => new Date(t),
    at: () => t,
    slept,
    deps: {
      now: () => new Date(t),
      sleep: async (ms: number) => {
        slept.push(ms);
        t += Math.max(0, ms);
      },
      random: () => random,
      policy: { initialMs: 1_000, maxMs: 8_000 },
    },
  };
}

function job(name: string, behave: (n: number) => number | Error, log: string[]): Job & { runs: number } {
  const j = {
    name,
    runs: 0,
    async renew() {
      j.runs++;
      log.push(name);
      const r = behave(j.runs);
      if (r instanceof Error) throw r;
      return { nextInMs: r, files: [`/f/${name}`] };
    },
  };
  return j;
}

test('due jobs run in order; each is rescheduled by its own next time, jitter taking up to 10% off', async () => {
  const c = fakeClock(1); // the most jitter: 10% early
  const log: string[] = [];
  const loop = new JobLoop(c.deps);
  loop.add(job('a', () => 10_000, log));
  loop.add(job('b', () => 50_000, log));
  const signal = new AbortController().signal;
  const first = await loop.pass(signal);
  assert.deepEqual(log, ['a', 'b']);
  assert.deepEqual(first.renewed.map((r) => r.files), [['/f/a'], ['/f/b']]);
  assert.equal(loop.nextDue() - c.at(), 9_000, 'a is due again after 10 s less 10%');
  await c.deps.sleep(loop.nextDue() - c.at());
  await loop.pass(signal);
  assert.deepEqual(log, ['a', 'b', 'a'], 'only a was due');
});

test('a failure backs off exponentially (equal jitter), no sooner than Retry-After; success resets it', async () => {
  const c = fakeClock(0); // no jitter taken off: the full step
  const log: string[] = [];
  const loop = new JobLoop(c.deps);
  const failures: [number, number][] = [];
  const outage = Object.assign(new Error('ZTS unavailable'), { retryAfterMs: 30_000 });
  const j = job('svc', (n) => (n <= 3 ? new Error('down') : n === 4 ? outage : 60_000), log);
  loop.add({ ...j, renew: j.renew, failed: (_e, attempt, ms) => failures.push([attempt, ms]) });
  const signal = new AbortController().signal;
  for (let i = 0; i < 5; i++) {
    const r = await loop.pass(signal);
    assert.equal(r.failed.length, i < 4 ? 1 : 0);
    if (i < 4) await c.deps.sleep(loop.nextDue() - c.at());
  }
  // Steps 1, 2, 4 s with random() = 0 give half of each; then Retry-After 30 s wins over the 4 s backoff.
  assert.deepEqual(failures, [[1, 500], [2, 1_000], [3, 2_000], [4, 30_000]]);
  assert.equal(loop.nextDue() - c.at(), 60_000, 'after the success: its own schedule again');
});

test('a job made due by another runs in the same pass', async () => {
  const c = fakeClock(0);
  const log: string[] = [];
  const loop = new JobLoop(c.deps);
  const follower = job('role', () => 100_000, log);
  const leader = job('svc', () => 50_000, log);
  loop.add({ name: leader.name, renew: async (s) => {
    const r = await leader.renew(s);
    loop.dueNow(follower);
    return r;
  } });
  loop.add(follower, Number.POSITIVE_INFINITY);
  await loop.pass(new AbortController().signal);
  assert.deepEqual(log, ['svc', 'role']);
});

test('run() stops when the signal aborts, and a job interrupted by it is not counted as failed', async () => {
  const c = fakeClock(0);
  const stop = new AbortController();
  const loop = new JobLoop(c.deps);
  let failed = 0;
  loop.add({
    name: 'svc',
    renew: async () => {
      stop.abort();
      throw new Error('aborted');
    },
    failed: () => failed++,
  });
  let passes = 0;
  await loop.run(stop.signal, () => passes++);
  assert.equal(failed, 0);
  assert.equal(passes, 0);
});
