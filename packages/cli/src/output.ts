/**
 * zms-cli output: Athenz's default "manual YAML" (bracketed messages, objects
 * as YAML without empty values), or `-o json` / `-o yaml`.
 */
export type Format = 'manual' | 'json' | 'yaml';

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

function scalar(v: unknown): string {
  if (typeof v === 'string') {
    // Quote only what YAML would read differently: leading indicators, ': ', ' #', edge spaces, keywords, numbers.
    const plain = v !== '' && !/^[\s"'{}[\],&*!|>%@`#?:-]|: | #|\s$/.test(v) && !/^(true|false|null|~|[+-]?\d+(\.\d+)?)$/i.test(v);
    return plain ? v : JSON.stringify(v);
  }
  return String(v);
}

/** A small YAML writer for JSON data (objects, arrays, scalars), 4-space indents as zms-cli. */
export function toYaml(value: unknown, indent = 0, dropEmpty = false): string {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}[]\n`;
    return value
      .map((item) => {
        if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
          // The first key goes on the dash line; the rest align under it.
          return `${pad}  - ${toYaml(item, indent + 4, dropEmpty).slice(indent + 4)}`;
        }
        return `${pad}  - ${scalar(item)}\n`;
      })
      .join('');
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => !(dropEmpty && isEmpty(v)))
      .map(([k, v]) => {
        if (Array.isArray(v) && v.length > 0) return `${pad}${k}:\n${toYaml(v, indent, dropEmpty)}`;
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) return `${pad}${k}:\n${toYaml(v, indent + 4, dropEmpty)}`;
        return `${pad}${k}: ${Array.isArray(v) ? '[]' : scalar(v)}\n`;
      })
      .join('');
  }
  return `${pad}${scalar(value)}\n`;
}

export interface Printer {
  /** A success message such as `[domain created: sports]`. */
  message(text: string): void;
  /** An object, under a heading in manual mode (e.g. `service`). */
  object(heading: string, value: unknown): void;
}

export function printer(format: Format, write: (s: string) => void): Printer {
  return {
    message(text) {
      if (format === 'json') write(`${JSON.stringify({ Status: 200, Message: text }, null, 4)}\n`);
      else if (format === 'yaml') write(toYaml({ status: 200, message: text }));
      else write(`[${text}]\n`);
    },
    object(heading, value) {
      if (format === 'json') write(`${JSON.stringify(value, null, 4)}\n`);
      else if (format === 'yaml') write(toYaml(value));
      else if (value === null || typeof value !== 'object') write(`${heading}: ${scalar(value)}\n`);
      else write(`${heading}:\n${toYaml(value, Array.isArray(value) ? 2 : 4, true)}`);
    },
  };
}

export function formatError(format: Format, code: number, message: string): string {
  // Unquoted in YAML modes, as zms-cli prints it: the message is for a person.
  return format === 'json' ? `${JSON.stringify({ code, message }, null, 4)}\n` : `code: ${code}\nmessage: ${message}\n`;
}
