/** Turns an ajv error into a message that names the field and says what is expected. */
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';

/** Words for a schema pattern (e.g. "a domain name (...)"), from the API's schemas; undefined: the pattern is shown. */
export type PatternDescriber = (pattern: string) => string | undefined;

const PLACES: Record<string, string> = { body: 'body field', params: 'path parameter', querystring: 'query parameter', headers: 'header' };

export function describeValidationError(errors: FastifySchemaValidationError[], context: string | undefined, patternDescription: PatternDescriber): string {
  const e = errors[0]!;
  const place = PLACES[context ?? ''] ?? 'field';
  // "/adminUsers/0" → "adminUsers[0]"
  const path = (e.instancePath ?? '').split('/').slice(1).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
  const p = e.params as Record<string, unknown>;
  const field = (name: string) => `${place} ${name}`;
  switch (e.keyword) {
    case 'required':
      return `Missing ${field(path ? `${path}.${String(p.missingProperty)}` : String(p.missingProperty))}: it is required`;
    case 'pattern':
      return `Invalid ${field(path)}: expected ${patternDescription(String(p.pattern)) ?? `a value matching ${String(p.pattern)}`}`;
    case 'type':
      return path ? `Invalid ${field(path)}: must be ${article(String(p.type))}` : `Invalid request ${context === 'body' ? 'body' : context ?? ''}: must be a JSON ${String(p.type).replace(/,null$/, '')}`;
    case 'maxLength':
      return `Invalid ${field(path)}: must be at most ${String(p.limit)} characters`;
    case 'minLength':
      return `Invalid ${field(path)}: must not be empty`;
    case 'maximum':
      return `Invalid ${field(path)}: must be at most ${String(p.limit)}`;
    case 'minimum':
      return `Invalid ${field(path)}: must be ${String(p.limit)} or more`;
    case 'maxItems':
      return `Invalid ${field(path)}: at most ${String(p.limit)} entries`;
    case 'enum':
      return `Invalid ${field(path)}: must be one of ${(p.allowedValues as unknown[]).filter((v) => v !== null && v !== '').map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `Invalid ${field(path || 'value')}: ${e.message ?? 'not valid'}`;
  }
}

function article(type: string): string {
  const t = type.replace(/,null$/, '');
  const words: Record<string, string> = { string: 'a string', integer: 'a whole number', boolean: 'true or false', array: 'a list', object: 'a JSON object', number: 'a number' };
  return words[t] ?? t;
}
