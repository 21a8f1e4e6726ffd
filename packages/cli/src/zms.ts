/** ZMS calls that fail with the server's own message. */
import type { Session } from './session.ts';

export class ZmsError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export type Zms = <T = unknown>(method: string, path: string, body?: unknown) => Promise<T>;

export function zmsCaller(session: Session): Zms {
  return async <T>(method: string, path: string, body?: unknown) => {
    const res = await session.call<T>(method, path, body);
    if (res.status >= 300) {
      const message = (res.body as { message?: string } | undefined)?.message ?? (res.text || `HTTP ${res.status}`);
      throw new ZmsError(res.status, message);
    }
    return res.body;
  };
}

/** Path segments are validated by the server; only escape what would break the URL. */
export const seg = (s: string): string => encodeURIComponent(s);
