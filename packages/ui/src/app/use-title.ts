/** The window title names the page, so tabs and history entries say where they lead. */
import { useEffect } from 'react';

export function useTitle(...parts: (string | undefined)[]): void {
  const title = [...parts.filter((p): p is string => !!p), 'Tessera'].join(' · ');
  useEffect(() => {
    document.title = title;
  }, [title]);
}
