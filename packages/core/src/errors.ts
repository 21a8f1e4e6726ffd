/**
 * Errors that carry the HTTP status they map to. The HTTP layers turn them into
 * Athenz's ResourceError body: {"code": <status>, "message": "..."}.
 */
export class ApiError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, message);
export const unauthorized = (message: string): ApiError => new ApiError(401, message);
export const forbidden = (message: string): ApiError => new ApiError(403, message);
export const notFound = (message: string): ApiError => new ApiError(404, message);
export const conflict = (message: string): ApiError => new ApiError(409, message);

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
