/**
 * Bodies for fuzzing JSON APIs (fast-check): hostile values, and a valid body
 * with one field (maybe nested) replaced or added. The ZMS and ZTS body
 * fuzzers start from each route's valid body.
 */
import fc from 'fast-check';

export const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', 'a\r\nb', '../../etc', '%E0%A4%A', '*', 'user.*', 'x'.repeat(5000), '__proto__', '0x10', '1e308', 'NaN'),
);

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(null, true, false, 0, -1, 2147483648, 99999999999, 1.5, Number.MAX_SAFE_INTEGER, -0),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(hostileString, { maxLength: 4 }),
  fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);

/** A body: random JSON, or `valid` with one of its fields (or of `extraKeys`) replaced; in a list of objects, the first item's first field. */
export function bodyFor(valid: Record<string, unknown>, extraKeys: string[]): fc.Arbitrary<unknown> {
  const keys = [...Object.keys(valid), ...extraKeys];
  const mutated = fc.tuple(fc.constantFrom(...keys), hostileValue, fc.boolean()).map(([key, value, nested]) => {
    const body = structuredClone(valid);
    const list = body[key];
    if (nested && Array.isArray(list) && list.length > 0 && typeof list[0] === 'object') {
      const item = { ...(list[0] as Record<string, unknown>) };
      const inner = Object.keys(item)[0] ?? 'x';
      item[inner] = value;
      body[key] = [item];
    } else {
      body[key] = value;
    }
    return body;
  });
  return fc.oneof({ arbitrary: mutated, weight: 4 }, { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 });
}
