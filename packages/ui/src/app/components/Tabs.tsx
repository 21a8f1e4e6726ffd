/**
 * Tabs as in the WAI-ARIA pattern (arrow keys, Home/End move between tabs), where
 * each tab is also a link: the selected tab lives in the URL and survives reload.
 */
import { useId, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { navigate } from '../router.tsx';

interface TabSpec<T extends string> {
  id: T;
  label: string;
  href: string;
}

interface TabsProps<T extends string> {
  label: string;
  tabs: TabSpec<T>[];
  selected: T;
  children: ReactNode;
}

export function Tabs<T extends string>({ label, tabs, selected, children }: TabsProps<T>) {
  const base = useId();
  const refs = useRef<(HTMLAnchorElement | null)[]>([]);
  const go = (index: number) => {
    const tab = tabs[(index + tabs.length) % tabs.length];
    navigate(tab.href);
    refs.current[(index + tabs.length) % tabs.length]?.focus();
  };
  const onKeyDown = (e: KeyboardEvent, index: number) => {
    const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
    if (e.key in moves) {
      e.preventDefault();
      go(moves[e.key]);
    }
  };
  return (
    <>
      <div role="tablist" aria-label={label} className="tabs">
        {tabs.map((t, i) => (
          <a
            key={t.id}
            ref={(el) => {
              refs.current[i] = el;
            }}
            role="tab"
            id={`${base}-${t.id}`}
            href={t.href}
            aria-selected={t.id === selected}
            aria-controls={`${base}-panel`}
            tabIndex={t.id === selected ? 0 : -1}
            onKeyDown={(e) => onKeyDown(e, i)}
            onClick={(e) => {
              if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
              e.preventDefault();
              navigate(t.href);
            }}
          >
            {t.label}
          </a>
        ))}
      </div>
      <div role="tabpanel" id={`${base}-panel`} aria-labelledby={`${base}-${selected}`} className="tabpanel">
        {children}
      </div>
    </>
  );
}
