/** Launch options may arrive as JSON from the admin API, so their types are checked, not assumed. */
import { validationError } from './aws-error.ts';

export function checkLaunchOptions(opts: unknown, stringKeys: string[]): void {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw validationError('launch options must be an object');
  const o = opts as Record<string, unknown>;
  for (const key of stringKeys) {
    if (o[key] !== undefined && typeof o[key] !== 'string') throw validationError(`${key} must be a string`);
  }
}

/** An optional option that must match `pattern` when given. */
export function matching(what: string, value: string | undefined, pattern: RegExp): string | undefined {
  if (value !== undefined && !pattern.test(value)) throw validationError(`Invalid ${what} '${value}'`);
  return value;
}
