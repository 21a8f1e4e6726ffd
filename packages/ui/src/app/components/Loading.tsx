/** Loading lines, announced politely, for panels whose data is on its way. */
import { SessionExpiredError } from '../api.ts';
import type { Loaded } from '../use-load.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** A list's first load: "Loading…" until it arrives, or why it failed, in words, with Retry. */
export function LoadStatus({ loaded, what, failure }: { loaded: Loaded<unknown>; what: string; failure: string }) {
  return (
    <>
      {loaded.loading && !loaded.data && <Loading what={what} />}
      <LoadFailure loaded={loaded} failure={failure} />
    </>
  );
}

/** Why a load failed, and a Retry button that loads it again. */
export function LoadFailure({ loaded, failure }: { loaded: Loaded<unknown>; failure: string }) {
  // A load the session ran out under tries again once logged in again: nothing to say behind the dialog.
  if (!loaded.error || loaded.error instanceof SessionExpiredError) return null;
  return (
    <div className="load-failure">
      <ErrorMessage error={loaded.error} prefix={failure} />
      <button type="button" className="button small" onClick={() => void loaded.reload()} disabled={loaded.loading}>
        {loaded.loading ? 'Retrying…' : 'Retry'}
      </button>
    </div>
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
