import type { Explained, Explanation } from './explained.ts';

/**
 * Errors that carry the HTTP status they map to. The HTTP layers turn them into
 * Athenz's ResourceError body: {"code": <status>, "message": "..."}.
 */
export class ApiError extends Error {
  readonly status: number;
  /** Response headers that belong to the error, e.g. Retry-After on a 429. */
  readonly headers?: Record<string, string>;
  /** Reason code, facts and a text safe for others to read (explained.ts), when the message was built with one. */
  readonly explanation?: Explanation;

  constructor(status: number, message: string | Explained, headers?: Record<string, string>) {
    super(typeof message === 'string' ? message : message.message);
    this.name = 'ApiError';
    this.status = status;
    if (headers) this.headers = headers;
    if (typeof message !== 'string') this.explanation = message.explanation;
  }
}

type Message = string | Explained;
export const badRequest = (message: Message): ApiError => new ApiError(400, message);
export const unauthorized = (message: Message): ApiError => new ApiError(401, message);
export const forbidden = (message: Message): ApiError => new ApiError(403, message);
export const notFound = (message: Message): ApiError => new ApiError(404, message);
export const conflict = (message: Message): ApiError => new ApiError(409, message);
export const tooManyRequests = (message: string, retryAfterSeconds: number): ApiError =>
  new ApiError(429, message, { 'retry-after': String(retryAfterSeconds) });

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
