/**
 * One way to check a form before it is sent: each field's problem in words,
 * shown under that field (TextField's `error`), and focus moved to the first
 * invalid field after a submit, so keyboard and screen-reader users land on it.
 */
import { useEffect, useRef, useState, type RefObject } from 'react';
import { isDomainName, isMemberName, isSimpleName } from '@tessera/core/names';

export type FieldErrors<F extends string> = Partial<Record<F, string>>;

export interface Validation<F extends string> {
  /** Put on the <form>: the first invalid field inside it gets focus. */
  formRef: RefObject<HTMLFormElement | null>;
  errors: FieldErrors<F>;
  /** Keeps the problems found; true when there are none (then send), else focus moves to the first invalid field. */
  check(found: FieldErrors<F>): boolean;
}

export function useValidation<F extends string>(): Validation<F> {
  const formRef = useRef<HTMLFormElement>(null);
  const [errors, setErrors] = useState<FieldErrors<F>>({});
  const [attempts, setAttempts] = useState(0);
  useEffect(() => {
    if (attempts > 0) formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [attempts]);
  const check = (found: FieldErrors<F>): boolean => {
    const kept = Object.fromEntries(Object.entries(found).filter(([, m]) => !!m)) as FieldErrors<F>;
    setErrors(kept);
    const ok = Object.keys(kept).length === 0;
    if (!ok) setAttempts((n) => n + 1);
    return ok;
  };
  return { formRef, errors, check };
}

// Name checks, quoting the input as the user typed it (the server would quote it lower-cased).
const SIMPLE_RULE = 'use letters, digits, "_" and "-", not starting with "-"';

/** A required single-part name (service, role, policy, sub-domain leaf); undefined when fine. */
export function nameProblem(what: string, typed: string): string | undefined {
  const value = typed.trim();
  if (!value) return `Enter a ${what}.`;
  if (!isSimpleName(value)) return `${capitalize(what)} "${value}" is not valid: ${SIMPLE_RULE}.`;
  return undefined;
}

/** A required domain name (dot-separated parts). */
export function domainProblem(what: string, typed: string): string | undefined {
  const value = typed.trim();
  if (!value) return `Enter the ${what}.`;
  if (!isDomainName(value)) return `${capitalize(what)} "${value}" is not valid: dot-separated parts, each of which ${SIMPLE_RULE.replace('use', 'uses')}.`;
  return undefined;
}

/** Members such as user.jane or sports.api, each checked; `required` when at least one is needed. */
export function membersProblem(names: string[], required: boolean): string | undefined {
  if (required && names.length === 0) return 'Enter the member to add, e.g. user.jane or sports.api.';
  const bad = names.find((m) => !isMemberName(m));
  return bad === undefined ? undefined : `"${bad}" is not a member name: use user.<name>, <domain>.<service> or <domain>.*.`;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
