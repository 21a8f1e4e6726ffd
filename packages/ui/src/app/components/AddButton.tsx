/**
 * The "Add …" button of a list. Adding checks the new name against the list
 * (PUT would replace an existing role, policy or service), so it waits for
 * the list, and when the list failed to load it stays disabled and says why.
 */
import { useId } from 'react';
import type { Loaded } from '../use-load.ts';

export function AddButton({ label, loaded, what, onClick }: { label: string; loaded: Loaded<unknown>; what: string; onClick(): void }) {
  const reasonId = useId();
  const failed = !loaded.data && !!loaded.error;
  return (
    <span className="add-button">
      {failed && (
        <span id={reasonId} className="muted add-reason">
          {label} needs the list of {what}, which did not load (see below).
        </span>
      )}
      <button type="button" className="button primary" disabled={!loaded.data} aria-describedby={failed ? reasonId : undefined} onClick={onClick}>
        {label}
      </button>
    </span>
  );
}
