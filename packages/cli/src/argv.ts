/**
 * Athenz's zms-cli takes Go-style flags: one dash for long names (`-key`,
 * `-cert`) and flags only before the command. Rewrite them into the form
 * commander understands, keeping everything after the command untouched.
 */
const LONG_SINGLE_DASH = new Set(['-key', '-cert', '-debug', '-overwrite', '-addself']);

export function normalizeArgs(args: string[]): string[] {
  return args.map((a) => (LONG_SINGLE_DASH.has(a.split('=')[0]) ? `-${a}` : a));
}
