/** A server or input error, in words, placed next to what caused it; announced to screen readers. */
import { SessionExpiredError, type ApiError } from '../api.ts';

export function ErrorMessage({ error, prefix }: { error: ApiError | string | undefined; prefix?: string }) {
  // The "Log in again" dialog over the page says it; the page behind it stays as it was.
  if (!error || error instanceof SessionExpiredError) return null;
  const text = typeof error === 'string' ? error : error.message;
  const status = typeof error === 'string' || error.status === 0 ? '' : ` (HTTP ${error.status})`;
  return (
    <p className="error" role="alert">
      {prefix ? `${prefix}: ` : ''}
      {text}
      {status && <span className="error-status">{status}</span>}
    </p>
  );
}
