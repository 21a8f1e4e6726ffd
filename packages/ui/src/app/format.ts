/** Display helpers: dates in the viewer's time zone with the zone shown, YBase64 as ZMS stores keys. */

const pad = (n: number) => String(n).padStart(2, '0');

/** "2025-03-04 17:05 UTC" style, local time; '—' for none. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())} ${zone}`.trim();
}

/** "just now", "5 min ago", "3 h ago", "2 days ago": how long before `now` the ISO time was. */
export function timeAgo(iso: string, now: number = Date.now()): string {
  const minutes = Math.floor((now - Date.parse(iso)) / 60_000);
  if (Number.isNaN(minutes)) return iso;
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

/** Athenz YBase64: base64 with + → . , / → _ , = → - (how ZMS expects public keys). */
export function ybase64Encode(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '.').replace(/\//g, '_').replace(/=/g, '-');
}

export function ybase64Decode(value: string): string {
  try {
    const binary = atob(value.replace(/\s/g, '').replace(/\./g, '+').replace(/_/g, '/').replace(/-/g, '='));
    return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return value;
  }
}

/** A pasted PEM, tidied: trimmed, Unix line ends; undefined when it is not a PEM block. */
export function normalizePem(text: string): string | undefined {
  const pem = text.replace(/\r\n?/g, '\n').trim();
  if (!/^-----BEGIN [A-Z0-9 ]+-----\n[\s\S]+\n-----END [A-Z0-9 ]+-----$/.test(pem)) return undefined;
  return `${pem}\n`;
}

/** Splits "a, b c" into ["a", "b", "c"]. */
export function splitList(text: string): string[] {
  return text.split(/[\s,]+/).filter((s) => s !== '');
}
