/**
 * A domain's `modified` is ZTS's only change signal, so it must strictly
 * increase even when two writes land in the same millisecond.
 */
export function nextModified(previous: string | undefined, now: Date): string {
  const prev = previous ? Date.parse(previous) : 0;
  return new Date(Math.max(now.getTime(), prev + 1)).toISOString();
}
