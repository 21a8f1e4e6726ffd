/** Loads data for a page or panel, keeping the error (in words) and offering a reload. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload(): Promise<void>;
}

/** Fired on window after logging in again over a page: loads that failed with 401 try again. */
export const RELOGGED_IN = 'tessera:relogged-in';

export function toApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, (e as Error)?.message ?? String(e));
}

export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const reload = useCallback(async () => {
    // Only the newest request may write: a slow old answer must not overwrite a newer one.
    const mine = ++latest.current;
    setLoading(true);
    try {
      const value = await loadRef.current();
      if (mine !== latest.current) return;
      setData(value);
      setError(undefined);
    } catch (e) {
      if (mine !== latest.current) return;
      setError(toApiError(e));
    } finally {
      if (mine === latest.current) setLoading(false);
    }
  }, []);

  useEffect(() => {
    setData(undefined);
    void reload();
    // The caller's deps decide when to load again.
  }, deps);

  const failedUnauthorized = error?.status === 401;
  useEffect(() => {
    if (!failedUnauthorized) return;
    const again = () => void reload();
    window.addEventListener(RELOGGED_IN, again);
    return () => window.removeEventListener(RELOGGED_IN, again);
  }, [failedUnauthorized, reload]);

  return { data, error, loading, reload };
}

export interface Action {
  busy: boolean;
  /** The last failure in words: the server's, or a message of the form's own checks (set with setError). */
  error: ApiError | string | undefined;
  setError(error: ApiError | string | undefined): void;
  /** Runs `work` with the form busy; a failure (thrown ApiError, Error or string) is kept in `error`. */
  run(work: () => Promise<void>): Promise<void>;
}

/** The busy flag and error of a form or button that changes something. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | string>();
  // "Your session has expired" is over once the user has logged in again over the page.
  const expired = typeof error !== 'string' && error?.status === 401;
  useEffect(() => {
    if (!expired) return;
    const clear = () => setError(undefined);
    window.addEventListener(RELOGGED_IN, clear);
    return () => window.removeEventListener(RELOGGED_IN, clear);
  }, [expired]);
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (e) {
      setError(typeof e === 'string' ? e : toApiError(e));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}
