/**
 * Error messages that know which of their parts the caller sent. The caller
 * is told its own values as it sent them; anyone else (a domain admin
 * reading a service's last failure) gets a text in which each caller-sent
 * value is quoted, escaped, cut short and marked as claimed, so a request
 * cannot write words into the pages others read. Each message also carries
 * a stable reason code and the facts Tessera itself established.
 *
 *   throw forbidden(refusal('service_name_mismatch')`role ${claim('role', att.role)} is not ${fact('expectedRole', full)}`);
 */

/** A value only the caller asserted. */
export class Claim {
  constructor(
    readonly field: string,
    readonly value: string,
    /** Quote it in the caller's message too (where the message always quoted it). */
    readonly quoted: boolean,
  ) {}
}

/** A value Tessera verified or configured itself. */
export class Fact {
  constructor(
    readonly name: string,
    readonly value: string,
  ) {}
}

export interface Explanation {
  /** Stable, machine-readable: what was refused. */
  reason: string;
  /** The message with every claimed value quoted, cut and marked: safe to show to others. */
  text: string;
  facts: Record<string, string>;
  /** Caller-sent values, cut to CLAIM_MAX_CHARS. */
  claims: Record<string, string>;
}

/** A message for the caller and its explanation for everyone else. */
export interface Explained {
  message: string;
  explanation: Explanation;
}

export const CLAIM_MAX_CHARS = 64;
const FACT_MAX_CHARS = 512;

export const claim = (field: string, value: unknown, opts: { quoted?: boolean } = {}): Claim =>
  new Claim(field, typeof value === 'string' ? value : JSON.stringify(value) ?? String(value), opts.quoted ?? false);
export const fact = (name: string, value: string | number): Fact => new Fact(name, String(value));

/** Cut to `max` characters (whole code points), marked with "…" when cut. */
function cut(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : s;
}

/**
 * Only printable ASCII stays as is: no control, format (bidi) or look-alike
 * characters reach a reader; inside quotes, neither do quotes or backslashes.
 */
const escapeForDisplay = (s: string, inQuotes: boolean): string =>
  Array.from(s)
    .map((ch) => (/^[\x20-\x7e]$/.test(ch) && !(inQuotes && (ch === '"' || ch === '\\')) ? ch : `\\u{${ch.codePointAt(0)!.toString(16)}}`))
    .join('');

/** A claimed value as kept: cut to CLAIM_MAX_CHARS. */
export const keptClaim = (value: string): string => cut(value, CLAIM_MAX_CHARS);

/** How a claimed value appears in the text others read. */
export function shownClaim(value: string): string {
  const chars = Array.from(value);
  const shown = escapeForDisplay(chars.slice(0, CLAIM_MAX_CHARS).join(''), true) + (chars.length > CLAIM_MAX_CHARS ? '…' : '');
  return `"${shown}" (as the caller claimed)`;
}

type Part = string | number | Claim | Fact | Explained;

/**
 * Tagged template for an explained message with the given reason code.
 * Plain strings and numbers are Tessera's own words (never put a request
 * value there); an Explained inside another contributes its parts.
 */
export function refusal(reason: string) {
  return (strings: TemplateStringsArray, ...parts: Part[]): Explained => {
    let message = strings[0];
    let text = strings[0];
    const facts: Record<string, string> = {};
    const claims: Record<string, string> = {};
    parts.forEach((p, i) => {
      let after = strings[i + 1];
      if (p instanceof Claim) {
        message += p.quoted ? JSON.stringify(p.value) : p.value;
        // The template's own quotes around a claim give way to the claim's.
        const q = text.at(-1);
        if ((q === "'" || q === '"') && after.startsWith(q)) {
          text = text.slice(0, -1);
          after = after.slice(1);
        }
        text += shownClaim(p.value);
        claims[p.field] = keptClaim(p.value);
      } else if (p instanceof Fact) {
        message += p.value;
        text += escapeForDisplay(cut(p.value, FACT_MAX_CHARS), false);
        facts[p.name] = cut(p.value, FACT_MAX_CHARS);
      } else if (typeof p === 'object') {
        message += p.message;
        text += p.explanation.text;
        Object.assign(facts, p.explanation.facts);
        Object.assign(claims, p.explanation.claims);
      } else {
        message += String(p);
        text += String(p);
      }
      message += strings[i + 1];
      text += after;
    });
    return { message, explanation: { reason, text, facts, claims } };
  };
}
