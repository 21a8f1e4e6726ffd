/**
 * A tiny history-API router: a handful of routes do not need a library.
 * Every page has its own URL, so reload and the back button keep the place.
 */
import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from 'react';

export type DomainTab = 'roles' | 'services' | 'policies' | 'history';
export const DOMAIN_TABS: DomainTab[] = ['roles', 'services', 'policies', 'history'];

export type Route =
  | { page: 'login' }
  | { page: 'home' }
  | { page: 'create-domain' }
  | { page: 'domain'; domain: string; tab: DomainTab }
  | { page: 'instances'; domain: string; service: string }
  | { page: 'not-found' };

const NAVIGATED = 'tessera:navigate';

export function matchRoute(pathname: string): Route {
  const parts = pathname.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  if (parts.length === 0) return { page: 'home' };
  if (parts[0] === 'login' && parts.length === 1) return { page: 'login' };
  if (parts[0] === 'create-domain' && parts.length === 1) return { page: 'create-domain' };
  if (parts[0] === 'domain' && parts.length >= 2) {
    const domain = parts[1];
    if (parts.length === 2) return { page: 'domain', domain, tab: 'roles' };
    const tab = parts[2] as DomainTab;
    if (parts.length === 3 && DOMAIN_TABS.includes(tab)) return { page: 'domain', domain, tab };
    if (parts.length === 5 && parts[2] === 'services' && parts[4] === 'instances') return { page: 'instances', domain, service: parts[3] };
  }
  return { page: 'not-found' };
}

export const paths = {
  home: () => '/',
  login: (next?: string) => (next && next !== '/' && next !== '/login' ? `/login?next=${encodeURIComponent(next)}` : '/login'),
  createDomain: () => '/create-domain',
  domain: (d: string, tab: DomainTab = 'roles') => `/domain/${encodeURIComponent(d)}/${tab}`,
  instances: (d: string, s: string) => `/domain/${encodeURIComponent(d)}/services/${encodeURIComponent(s)}/instances`,
};

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(NAVIGATED));
}

/** The current path plus query, re-rendering on every navigation. */
export function useLocation(): { pathname: string; search: string } {
  const read = () => ({ pathname: window.location.pathname, search: window.location.search });
  const [location, setLocation] = useState(read);
  useEffect(() => {
    const update = () => setLocation(read());
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATED, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATED, update);
    };
  }, []);
  return location;
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string; children: ReactNode };

/** A real link (middle-click and "open in new tab" work) that navigates in place on a plain click. */
export function Link({ to, children, onClick, ...rest }: LinkProps) {
  const click = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={click} {...rest}>
      {children}
    </a>
  );
}
