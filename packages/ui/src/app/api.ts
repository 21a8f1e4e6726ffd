/**
 * The one way the UI talks to ZMS: same-origin fetch that carries the session
 * cookie, adds the CSRF header to every change, and turns every failure into
 * an ApiError whose message is meant for people.
 */
import { ApiError } from '@tessera/core/errors';

export const API_BASE = '/zms/v1';
export const CSRF_COOKIE = 'tessera_csrf';

// The server's own error class; in the UI a status of 0 means the server could not be reached at all.
export { ApiError };

/**
 * A 401 on a page that was logged in: the session ran out. The "Log in again"
 * dialog says so; the pages behind it show nothing of it (their loads retry
 * after logging in again, their forms keep what was typed).
 */
export class SessionExpiredError extends ApiError {
  constructor(message: string) {
    super(401, message);
    this.name = 'SessionExpiredError';
  }
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** A 401 is the caller's business (the login form), not an expired session. */
  ownUnauthorized?: boolean;
}

export interface Api {
  get<T>(path: string): Promise<T>;
  send<T = void>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, options?: RequestOptions): Promise<T>;
}

export interface ApiOptions {
  /** Called on a 401: the session is gone, the app goes back to the login page. */
  onUnauthorized(message: string): void;
  fetch?: typeof fetch;
  base?: string;
}

/** The CSRF token the server set beside the HttpOnly session cookie (double submit). */
export function csrfToken(cookies: string = document.cookie): string {
  for (const part of cookies.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join('='));
  }
  return '';
}

/** A path segment, escaped: names come from users and URLs. */
export const seg = (value: string): string => encodeURIComponent(value);

export function createApi(options: ApiOptions): Api {
  const base = options.base ?? API_BASE;
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));

  async function request<T>(method: string, path: string, body: unknown, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET') headers['x-csrf-token'] = csrfToken();
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (e) {
      throw new ApiError(0, `Cannot reach the server (${(e as Error).message}): check that tessera serve is running, then try again`);
    }
    const text = await res.text();
    if (!res.ok) {
      const message = errorMessage(res, text);
      if (res.status === 401 && !opts.ownUnauthorized) {
        options.onUnauthorized(message);
        throw new SessionExpiredError(message);
      }
      throw new ApiError(res.status, message);
    }
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(res.status, `The server sent an answer that is not JSON for ${method} ${path}`);
    }
  }

  return {
    get: (path) => request('GET', path, undefined),
    send: (method, path, body, opts) => request(method, path, body, opts),
  };
}

function errorMessage(res: Response, text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string' && body.message !== '') return body.message;
  } catch {
    // Not JSON (a proxy's page, say): fall back to the status line.
  }
  return `The server answered ${res.status} ${res.statusText || ''}`.trim();
}
