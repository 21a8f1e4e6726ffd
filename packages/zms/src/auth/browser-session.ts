/**
 * Browser sessions for the UI: the user token lives in an HttpOnly, Secure,
 * SameSite=Strict cookie, so page scripts never see it. Changes also need the
 * CSRF token (double submit): a second cookie the page reads and echoes in
 * the X-CSRF-Token header, which another site cannot do.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { forbidden } from '@tessera/core/errors';

export const SESSION_COOKIE = 'tessera_session';
export const CSRF_COOKIE = 'tessera_csrf';
export const CSRF_HEADER = 'x-csrf-token';

/** The request's cookies; a value that is not valid percent-encoding is left out (and so counts as absent). */
export function readCookies(req: FastifyRequest): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      cookies.set(part.slice(0, eq).trim(), decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // URIError: not ours, or tampered with.
    }
  }
  return cookies;
}

export function setSessionCookies(reply: FastifyReply, token: string, maxAgeSeconds: number): string {
  const csrf = randomBytes(24).toString('base64url');
  const common = `Path=/; Secure; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
  reply.header('set-cookie', [`${SESSION_COOKIE}=${encodeURIComponent(token)}; HttpOnly; ${common}`, `${CSRF_COOKIE}=${csrf}; ${common}`]);
  return csrf;
}

export function clearSessionCookies(reply: FastifyReply): void {
  const gone = 'Path=/; Secure; SameSite=Strict; Max-Age=0';
  reply.header('set-cookie', [`${SESSION_COOKIE}=; HttpOnly; ${gone}`, `${CSRF_COOKIE}=; ${gone}`]);
}

/** The session token from the cookie; for a change, only with the matching CSRF header. */
export function sessionToken(req: FastifyRequest): string | undefined {
  const cookies = readCookies(req);
  const token = cookies.get(SESSION_COOKIE);
  if (!token) return undefined;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const expected = Buffer.from(cookies.get(CSRF_COOKIE) ?? '');
    const sent = Buffer.from(String(req.headers[CSRF_HEADER] ?? ''));
    if (expected.length === 0 || expected.length !== sent.length || !timingSafeEqual(expected, sent)) {
      throw forbidden('CSRF token missing or wrong: reload the page and try again');
    }
  }
  return token;
}
