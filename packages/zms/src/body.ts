/** Small readers for JSON request bodies that say exactly which field is wrong. */
import { badRequest } from '@tessera/core/errors';

export type Body = Record<string, unknown>;

export function asBody(value: unknown): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('Request body must be a JSON object');
  }
  return value as Body;
}

/** Athenz clients send "" for unset strings: treat "" as absent. */
export function optString(body: Body, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw badRequest(`${field} must be a string`);
  return v;
}

export function optBool(body: Body, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw badRequest(`${field} must be true or false`);
  return v;
}

export function optNonNegativeInt(body: Body, field: string): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  // Bounded to a 32-bit integer, as in Athenz, and what every store column holds.
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2147483647) {
    throw badRequest(`${field} must be a whole number from 0 to 2147483647`);
  }
  return v;
}

export function optArray(body: Body, field: string): unknown[] | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw badRequest(`${field} must be a list`);
  return v;
}

/** An ISO-8601 timestamp, normalized to the millisecond form Athenz emits. */
export function optTimestamp(body: Body, field: string): string | undefined {
  const v = optString(body, field);
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw badRequest(`${field} must be an ISO-8601 timestamp such as 2030-01-31T00:00:00.000Z`);
  return new Date(t).toISOString();
}
