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

/**
 * Every scheduled refresh (certificates, role certificates, access tokens)
 * comes early by a random share of at most this much of its delay: a fleet
 * started together (a rollout) spreads over a tenth of the interval instead
 * of returning to ZTS in one clump every day. Never late, so a certificate
 * is still refreshed before it would expire.
 */
export const SCHEDULE_JITTER = 0.1;

/** The scheduled delay with jitter: within [delay × (1 − SCHEDULE_JITTER), delay]. */
export function jitteredDelay(delayMs: number, random: () => number): number {
  return delayMs * (1 - SCHEDULE_JITTER * random());
}

/** A Retry-After longer than this is taken as this (a wrong header must not park siad for days). */
export const MAX_RETRY_AFTER_MS = 60 * 60_000;

/** The retry delay after a failure: the backoff, but never sooner than ZTS's Retry-After. */
export function retryDelay(failures: number, p: BackoffPolicy, random: () => number, retryAfterMs?: number): number {
  const backoff = backoffDelay(failures, p, random);
  return retryAfterMs === undefined ? backoff : Math.max(backoff, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}
