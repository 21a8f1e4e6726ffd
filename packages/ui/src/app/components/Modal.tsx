/**
 * A modal dialog on the native <dialog>: showModal() makes the page behind it
 * inert, keeps Tab inside, and Escape closes it — keyboard access for free.
 * Focus goes to the marked or first field and back to the opener on close.
 */
import { useEffect, useId, useRef, type ReactNode } from 'react';

interface ModalProps {
  title: string;
  onClose(): void;
  children: ReactNode;
}

export function Modal({ title, onClose, children }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    dialog.showModal();
    (dialog.querySelector<HTMLElement>('[data-autofocus]') ?? dialog.querySelector<HTMLElement>('input, textarea, select, .dialog-actions button'))?.focus();
    // Escape fires "cancel"; we close through React state instead of letting the browser do it.
    const cancel = (e: Event) => {
      e.preventDefault();
      closeRef.current();
    };
    dialog.addEventListener('cancel', cancel);
    return () => {
      dialog.removeEventListener('cancel', cancel);
      dialog.close();
      opener?.focus();
    };
  }, []);

  return (
    <dialog ref={ref} className="modal" aria-labelledby={titleId}>
      <div className="modal-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
}

/** The buttons under an "Add …" form in a dialog: submit (labelled `label`, "Adding…" while busy) and Cancel. */
export function AddActions({ label, busy, onCancel }: { label: string; busy: boolean; onCancel(): void }) {
  return (
    <div className="dialog-actions">
      <button type="submit" className="button primary" disabled={busy}>
        {busy ? 'Adding…' : label}
      </button>
      <button type="button" className="button" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}
