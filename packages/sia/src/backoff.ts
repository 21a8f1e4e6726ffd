/**
 * Retry delays after a failure: exponential, with jitter so that many
 * sidecars that lost ZTS at the same moment do not come back in step.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/** Scaled to the refresh interval: 5 s doubling up to 5 min for the daily default, proportionally less for short intervals. */
export function backoffPolicy(refreshIntervalMs: number): BackoffPolicy {
  const maxMs = Math.max(1, Math.min(refreshIntervalMs, 5 * 60_000));
  return { initialMs: Math.max(1, Math.min(5_000, refreshIntervalMs / 4, maxMs)), maxMs };
}

/**
 * The delay before retry number `failures` (1 = after the first failure):
 * the exponential step, of which a random half is taken off ("equal jitter"),
 * so the delay stays within [step/2, step].
 */
export function backoffDelay(failures: number, p: BackoffPolicy, random: () => number): number {
  const step = Math.min(p.maxMs, p.initialMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return step / 2 + random() * (step / 2);
}
