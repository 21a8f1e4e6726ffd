/** Loading lines, announced politely, for panels whose data is on its way. */
import type { Loaded } from '../use-load.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** A list's first load: "Loading…" until it arrives, or why it failed, in words. */
export function LoadStatus({ loaded, what, failure }: { loaded: Loaded<unknown>; what: string; failure: string }) {
  return (
    <>
      {loaded.loading && !loaded.data && <Loading what={what} />}
      <ErrorMessage error={loaded.error} prefix={failure} />
    </>
  );
}

/** What a change just did, announced to screen readers. */
export function Done({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <p className="success" role="status">
      {message}
    </p>
  );
}
