/** The simulator's notion of "now". Tests pass their own to expire credentials without sleeping. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** AWS timestamps carry whole seconds: `2024-05-01T12:00:00Z`. */
export function awsTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
