/**
 * Token endpoint errors. The status is Athenz's (400, 401, 403, 404); the
 * body carries the RFC 6749 fields (`error`, `error_description`) for OAuth
 * clients and Athenz's ResourceError fields (`code`, `message`) for Athenz
 * clients, with the same words in both.
 */
import { ApiError } from '@tessera/core/errors';

export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope';

export class OAuthError extends ApiError {
  readonly error: OAuthErrorCode;

  constructor(status: number, error: OAuthErrorCode, message: string) {
    super(status, message);
    this.error = error;
  }
}

export const invalidRequest = (m: string) => new OAuthError(400, 'invalid_request', m);
export const invalidScope = (m: string, status = 400) => new OAuthError(status, 'invalid_scope', m);

/** The body for any error raised while serving the token endpoint. */
export function oauthErrorBody(e: unknown): { status: number; body: Record<string, unknown> } {
  if (e instanceof OAuthError) {
    return { status: e.status, body: { error: e.error, error_description: e.message, code: e.status, message: e.message } };
  }
  if (e instanceof ApiError) {
    const error: OAuthErrorCode = e.status === 401 ? 'invalid_client' : e.status === 403 || e.status === 404 ? 'invalid_scope' : 'invalid_request';
    return { status: e.status, body: { error, error_description: e.message, code: e.status, message: e.message } };
  }
  const fastify = e as { statusCode?: number; code?: string; message?: string };
  const status = fastify.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const message = fastify.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
      ? 'Unsupported content type: send the request as application/x-www-form-urlencoded (grant_type=client_credentials&scope=...)'
      : fastify.message ?? 'Bad request';
    return { status, body: { error: 'invalid_request', error_description: message, code: status, message } };
  }
  return { status: 500, body: { error: 'server_error', error_description: 'Internal server error', code: 500, message: 'Internal server error' } };
}
