/**
 * The AWS query protocol used by IAM and STS: form-encoded parameters in, XML
 * out (`<XResponse><XResult>…</XResult><ResponseMetadata/>`), errors as
 * `<ErrorResponse><Error>…</Error>`.
 */
import { missingParameter, validationError, type AwsError } from './aws-error.ts';

export class QueryParams {
  private readonly values = new Map<string, string>();

  constructor(...sources: URLSearchParams[]) {
    for (const source of sources) {
      for (const [k, v] of source) if (!this.values.has(k)) this.values.set(k, v);
    }
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  require(name: string): string {
    const v = this.values.get(name);
    if (v === undefined || v === '') throw missingParameter(name);
    return v;
  }

  /** An integer parameter, or undefined when absent. */
  int(name: string): number | undefined {
    const v = this.values.get(name);
    if (v === undefined || v === '') return undefined;
    if (!/^-?\d{1,10}$/.test(v)) throw validationError(`Value '${v}' at '${name}' failed to satisfy constraint: Member must be a number`);
    return Number(v);
  }

  /** `Prefix.member.1.Key=…&Prefix.member.1.Value=…` → [{Key, Value}, …]. */
  members(prefix: string): Record<string, string>[] {
    const out: Record<string, string>[] = [];
    const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.member\\.(\\d+)(?:\\.(\\w+))?$`);
    for (const [k, v] of this.values) {
      const m = re.exec(k);
      if (!m) continue;
      const i = Number(m[1]) - 1;
      if (i < 0 || i >= 1000) continue;
      out[i] ??= {};
      out[i][m[2] ?? ''] = v;
    }
    return out.filter((x) => x !== undefined);
  }
}

/** A value the XML renderer understands: arrays become `<member>` lists. */
export type XmlShape = string | number | boolean | Date | null | undefined | XmlShape[] | { [key: string]: XmlShape };

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

function render(value: XmlShape): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (Array.isArray(value)) return value.map((v) => `<member>${render(v)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${render(v)}</${k}>`)
      .join('');
  }
  return xmlEscape(String(value));
}

export function queryResponse(
  action: string,
  xmlns: string,
  result: Record<string, XmlShape> | undefined,
  requestId: string,
): string {
  const body = result === undefined ? '' : `<${action}Result>${render(result)}</${action}Result>`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${xmlns}">${body}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>\n`
  );
}

export function errorResponse(err: AwsError, xmlns: string, requestId: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${xmlns}"><Error><Type>${err.type}</Type>` +
    `<Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>\n`
  );
}
