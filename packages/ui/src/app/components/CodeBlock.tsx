/**
 * Copies the text of a command or policy shown on the page. The Clipboard API
 * needs a secure context and permission; where it is missing or refused, the
 * text is selected and copied with execCommand, the way browsers did before it.
 */
import { useRef, useState } from 'react';

export async function copyText(text: string, source: HTMLElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Refused (no permission, no focus): fall back to selecting the text.
  }
  if (!source) return false;
  const selection = window.getSelection();
  if (!selection) return false;
  const range = document.createRange();
  range.selectNodeContents(source);
  selection.removeAllRanges();
  selection.addRange(range);
  try {
    return document.execCommand('copy');
  } finally {
    selection.removeAllRanges();
  }
}

/** A command or document to paste elsewhere: its caption, a Copy button, and the text (named `label` for screen readers and tests). */
export function CodeBlock({ label, text, caption = true }: { label: string; text: string; caption?: boolean }) {
  const pre = useRef<HTMLPreElement>(null);
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => setState((await copyText(text, pre.current)) ? 'copied' : 'failed');
  return (
    <figure className="code-block">
      <figcaption>
        <span className={caption ? undefined : 'visually-hidden'}>{label}</span>
        <button type="button" className="button small" aria-label={`Copy ${label}`} onClick={() => void copy()}>
          Copy
        </button>
        <span role="status" className={state === 'failed' ? 'copy-failed' : 'copied'}>
          {state === 'copied' ? 'Copied' : state === 'failed' ? 'Could not copy: select the text and copy it' : ''}
        </span>
      </figcaption>
      <pre aria-label={label} ref={pre}>
        {text}
      </pre>
    </figure>
  );
}
