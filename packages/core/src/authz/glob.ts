/**
 * Athenz globs (assertion actions, resources and role names) as anchored
 * regular expressions, after `StringUtils.patternFromGlob`: `*` matches any
 * run of characters (also empty, also `.` and `:`), `?` exactly one, and
 * every other character stands for itself.
 */

/** Compiled patterns kept per process; policies reuse a small set of globs. */
const MAX_CACHED = 4096;
const cache = new Map<string, RegExp>();

// The characters with a meaning in a JavaScript pattern. Athenz escapes a
// subset of these (Java treats a lone `]` or `}` literally); escaping them
// all gives the same matches and is valid under the `u` flag.
const SYNTAX = /[\\^$.|+()[\]{}/]/;

/** `sports:role.*` → `^sports:role\..*$` (source text, no cache). */
export function globSource(glob: string): string {
  let out = '^';
  for (const c of glob) {
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else out += SYNTAX.test(c) ? `\\${c}` : c;
  }
  return `${out}$`;
}

/** The compiled, anchored pattern for a glob; cached, oldest entry evicted first. */
export function globToRegExp(glob: string): RegExp {
  const hit = cache.get(glob);
  if (hit) {
    // Re-insert so frequently used globs stay at the young end of the Map.
    cache.delete(glob);
    cache.set(glob, hit);
    return hit;
  }
  // `s`: `*` must also cross line breaks; `u`: `?` is one code point.
  const re = new RegExp(globSource(glob), 'su');
  if (cache.size >= MAX_CACHED) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(glob, re);
  return re;
}

/** Whether `value` matches `glob` in full. Case-sensitive: callers lower-case both. */
export function globMatch(glob: string, value: string): boolean {
  // Fast paths for the two most common shapes: no wildcard, or only `*`.
  if (glob === '*') return true;
  if (!glob.includes('*') && !glob.includes('?')) return glob === value;
  return globToRegExp(glob).test(value);
}

/** How many compiled patterns are cached (for tests of the bound). */
export const globCacheSize = (): number => cache.size;
export const GLOB_CACHE_LIMIT = MAX_CACHED;
