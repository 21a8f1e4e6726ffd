/** "Are you sure?" for destructive actions; the server's refusal stays in the dialog, in words. */
import type { ReactNode } from 'react';
import { useAction } from '../use-load.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { Modal } from './Modal.tsx';

interface ConfirmProps {
  title: string;
  confirmLabel: string;
  children: ReactNode;
  onConfirm(): Promise<void>;
  onClose(): void;
}

export function ConfirmDialog({ title, confirmLabel, children, onConfirm, onClose }: ConfirmProps) {
  const { busy, error, run } = useAction();
  const confirm = async () => {
    await run(async () => {
      await onConfirm();
      onClose();
    });
  };
  return (
    <Modal title={title} onClose={onClose}>
      <div className="modal-body">{children}</div>
      <ErrorMessage error={error} />
      <div className="dialog-actions">
        <button type="button" className="button danger" onClick={confirm} disabled={busy}>
          {busy ? 'Working…' : confirmLabel}
        </button>
        {/* Focus starts on Cancel: Enter alone must not destroy anything. */}
        <button type="button" className="button" onClick={onClose} data-autofocus>
          Cancel
        </button>
      </div>
    </Modal>
  );
}
