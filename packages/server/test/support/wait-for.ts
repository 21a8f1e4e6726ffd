/**
 * Waiting on an event instead of sleeping: polls `check` until it returns a
 * truthy value (which is returned), and fails with `what` and the last state
 * once the deadline passes, so a hang is a clear failure rather than a CI kill.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  o: { timeoutMs?: number; intervalMs?: number; state?: () => string } = {},
): Promise<NonNullable<T>> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${o.state ? `; state:\n${o.state()}` : ''}`);
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 50));
  }
}
