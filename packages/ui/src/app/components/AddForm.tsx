/**
 * An "add" form inside a card, closed behind its button until needed: a page
 * of roles or policies stays short on a phone. Opening moves focus to the
 * first field; Cancel closes it and returns focus to the button.
 */
import { useEffect, useRef, type FormEvent, type ReactNode, type RefObject } from 'react';

interface AddFormProps {
  /** The button that opens the form, and the form's submit button. */
  label: string;
  /** The form's accessible name, e.g. "Add a member to readers". */
  formLabel: string;
  open: boolean;
  onOpen(): void;
  onCancel(): void;
  onSubmit(e: FormEvent): void;
  formRef: RefObject<HTMLFormElement | null>;
  busy: boolean;
  children: ReactNode;
}

export function AddForm({ label, formLabel, open, onOpen, onCancel, onSubmit, formRef, busy, children }: AddFormProps) {
  const opener = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(open);
  useEffect(() => {
    if (open && !wasOpen.current) formRef.current?.querySelector<HTMLElement>('input, select, textarea')?.focus();
    if (!open && wasOpen.current && formRef.current === null) opener.current?.focus();
    wasOpen.current = open;
  }, [open, formRef]);

  if (!open) {
    return (
      <button type="button" className="button collapsed-add" aria-expanded="false" onClick={onOpen} ref={opener}>
        {label}
      </button>
    );
  }
  return (
    <form className="inline-form" onSubmit={onSubmit} aria-label={formLabel} noValidate ref={formRef}>
      {children}
      <div className="form-buttons">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Adding…' : label}
        </button>
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
