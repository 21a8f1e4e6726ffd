/**
 * A labelled form field. Every form checks its input the same way (useValidation):
 * a field's error shows right under it, the field is marked aria-invalid and
 * names the error (and its hint) in aria-describedby.
 */
import { useId, type InputHTMLAttributes, type ReactNode, type TextareaHTMLAttributes } from 'react';

interface Common {
  label: string;
  hint?: string;
  /** What is wrong with the value, in words; shown under the field. */
  error?: string;
}

function FieldFrame({ id, label, required, hint, error, children }: Common & { id: string; required?: boolean; children: ReactNode }) {
  return (
    <div className={error ? 'field invalid' : 'field'}>
      <label htmlFor={id}>
        {label}
        {required && <span className="required" aria-hidden="true"> *</span>}
      </label>
      {children}
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
      {hint && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

/** The aria attributes tying a field to its error and hint. */
function described(id: string, { hint, error }: Common) {
  const ids = [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
  return { 'aria-invalid': error ? true : undefined, 'aria-describedby': ids || undefined };
}

export function TextField({ label, hint, error, ...input }: Common & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} required={input.required} hint={hint} error={error}>
      <input id={id} {...described(id, { label, hint, error })} {...input} />
    </FieldFrame>
  );
}

export function TextArea({ label, hint, error, ...input }: Common & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  return (
    <FieldFrame id={id} label={label} required={input.required} hint={hint} error={error}>
      <textarea id={id} {...described(id, { label, hint, error })} {...input} />
    </FieldFrame>
  );
}
