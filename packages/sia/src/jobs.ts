/**
 * One loop for everything siad keeps fresh. Each renewing thing (the
 * certificate of each service, each role certificate, the access tokens) is
 * a job that knows how to renew itself and says when it is due again; the
 * loop runs the jobs that are due, in the order they were added, then sleeps
 * until the next one is (as SPIRE's agent runs one small rotator per renewing
 * thing, here as entries of one schedule).
 *
 * Scheduled renewals come a little early at random (backoff.ts
 * SCHEDULE_JITTER) so that a fleet spreads out. A failed job is retried with
 * exponential backoff and jitter, never sooner than the Retry-After ZTS sent;
 * the other jobs keep their own schedules.
 */
import { jitteredDelay, retryDelay, type BackoffPolicy } from './backoff.ts';

export interface Renewal {
  /** How long until it is due again (ms, before jitter). */
  nextInMs: number;
  /** The files it wrote. */
  files: string[];
}

export interface Job {
  readonly name: string;
  /** Renews; throws when it failed (the error's retryAfterMs, if any, is honoured). */
  renew(signal: AbortSignal): Promise<Renewal>;
  /** Told after each failure: which attempt it was and when the retry comes. */
  failed?(error: Error, attempt: number, retryInMs: number): void;
}

export interface PassResult {
  /** The jobs that renewed, with what they wrote. */
  renewed: { job: Job; files: string[] }[];
  failed: { job: Job; error: Error }[];
}

export interface LoopDeps {
  now: () => Date;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  random: () => number;
  policy: BackoffPolicy;
}

interface Entry {
  job: Job;
  /** Epoch ms. */
  due: number;
  failures: number;
}

const retryAfterOf = (e: unknown): number | undefined => {
  const v = (e as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  return typeof v === 'number' ? v : undefined;
};

export class JobLoop {
  private readonly entries: Entry[] = [];

  constructor(private readonly deps: LoopDeps) {}

  /** Adds a job, due at `due` (epoch ms; now by default, never with Infinity). */
  add(job: Job, due = 0): void {
    this.entries.push({ job, due, failures: 0 });
  }

  /** Makes a job due now: it runs later in the current pass, or in the next one. */
  dueNow(job: Job): void {
    const e = this.entries.find((x) => x.job === job);
    if (e) e.due = 0;
  }

  /** When the next job is due (epoch ms). */
  nextDue(): number {
    return Math.min(...this.entries.map((e) => e.due));
  }

  /** Runs every job that is due, once, in order. */
  async pass(signal: AbortSignal): Promise<PassResult> {
    const result: PassResult = { renewed: [], failed: [] };
    for (const e of this.entries) {
      if (signal.aborted) break;
      if (this.deps.now().getTime() < e.due) continue;
      try {
        const r = await e.job.renew(signal);
        const at = this.deps.now().getTime();
        e.failures = 0;
        e.due = at + jitteredDelay(r.nextInMs, this.deps.random);
        result.renewed.push({ job: e.job, files: r.files });
      } catch (err) {
        if (signal.aborted) break;
        e.failures++;
        const delay = retryDelay(e.failures, this.deps.policy, this.deps.random, retryAfterOf(err));
        e.due = this.deps.now().getTime() + delay;
        e.job.failed?.(err as Error, e.failures, delay);
        result.failed.push({ job: e.job, error: err as Error });
      }
    }
    return result;
  }

  /** Passes until `signal` aborts; `afterPass` sees what each pass did (hooks, pushes to subscribers). */
  async run(signal: AbortSignal, afterPass: (r: PassResult) => void): Promise<void> {
    while (!signal.aborted) {
      const r = await this.pass(signal);
      if (signal.aborted) break;
      afterPass(r);
      await this.deps.sleep(this.nextDue() - this.deps.now().getTime(), signal);
    }
  }
}
