/**
 * The app shell: finds out who is logged in, sends everyone else to the login
 * page (with the reason when a session ran out), and picks the page for the URL.
 * A session that runs out while someone works is renewed in a dialog over the
 * page, so nothing on it (an open dialog's input included) is lost.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createApi, type ApiError } from './api.ts';
import { AppContext, type AppContextValue } from './app-context.tsx';
import { DEFAULT_PROVIDERS, uiConfigFrom, type UiConfig } from './providers.ts';
import { matchRoute, navigate, paths, useLocation } from './router.tsx';
import { RELOGGED_IN, toApiError } from './use-load.ts';
import { zms, type Session } from './zms-client.ts';
import { Layout } from './components/Layout.tsx';
import { ErrorMessage } from './components/ErrorMessage.tsx';
import { LoginPage, ReloginDialog } from './pages/LoginPage.tsx';
import { HomePage } from './pages/HomePage.tsx';
import { CreateDomainPage } from './pages/CreateDomainPage.tsx';
import { DomainPage } from './pages/DomainPage.tsx';
import { InstancesPage } from './pages/InstancesPage.tsx';
import { NotFoundPage } from './pages/NotFoundPage.tsx';

const EXPIRED = 'Your session has expired: log in again.';
/** Remembers, for this tab, that someone was logged in: a 401 after a reload then means "expired", not "never logged in". */
const HAD_SESSION = 'tessera.hadSession';
const tabStore = (): Storage | undefined => {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
};

export function App() {
  const { pathname, search } = useLocation();
  const route = matchRoute(pathname);
  // undefined while we ask the server; null when nobody is logged in.
  const [session, setSession] = useState<Session | null>();
  const [notice, setNotice] = useState<string>();
  // Set when the session ran out under a page that is still shown: the reason, for the re-login dialog.
  const [expired, setExpired] = useState<string>();
  const [bootError, setBootError] = useState<ApiError>();
  const [config, setConfig] = useState<UiConfig>({ providers: DEFAULT_PROVIDERS });
  const sessionRef = useRef(session);
  sessionRef.current = session;

  const api = useMemo(
    () =>
      createApi({
        onUnauthorized(message) {
          const reason = /session has expired/i.test(message) ? (message.endsWith('.') ? message : `${message}.`) : EXPIRED;
          if (sessionRef.current) {
            // Mid-work: keep the page, log in again over it.
            setExpired(reason);
            return;
          }
          // The browser drops the cookie when it expires: then the server cannot tell, but we can.
          const hadSession = tabStore()?.getItem(HAD_SESSION) === '1';
          tabStore()?.removeItem(HAD_SESSION);
          setSession(null);
          if (/session has expired/i.test(message) || hadSession) setNotice(reason);
        },
      }),
    [],
  );

  const boot = useCallback(async () => {
    setBootError(undefined);
    fetch('/ui-config.json', { cache: 'no-store' })
      .then((r) => (r.ok ? r.json() : null))
      .then((c: unknown) => setConfig(uiConfigFrom(c)))
      .catch(() => setConfig({ providers: DEFAULT_PROVIDERS }));
    try {
      setSession(await zms.session(api));
    } catch (e) {
      const error = toApiError(e);
      if (error.status === 401) setSession(null);
      else setBootError(error);
    }
  }, [api]);

  useEffect(() => {
    void boot();
  }, [boot]);

  // Logged out → the login page, remembering where the user was going; logged in → away from it.
  useEffect(() => {
    if (session === null && route.page !== 'login') navigate(paths.login(pathname + search), { replace: true });
    if (session && route.page === 'login') {
      const next = new URLSearchParams(search).get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : paths.home(), { replace: true });
    }
  }, [session, route.page, pathname, search]);

  const logout = async () => {
    await zms.logout(api);
    tabStore()?.removeItem(HAD_SESSION);
    setSession(null);
    setNotice('You have logged out.');
  };

  const relogged = (s: Session) => {
    setExpired(undefined);
    setSession(s);
    // Lists that failed because the session had run out load again.
    window.dispatchEvent(new Event(RELOGGED_IN));
  };

  const giveUp = () => {
    tabStore()?.removeItem(HAD_SESSION);
    setNotice(expired);
    setExpired(undefined);
    setSession(null);
  };

  if (bootError) {
    return (
      <main className="page narrow" id="main">
        <h1>Tessera</h1>
        <ErrorMessage error={bootError} prefix="Could not start" />
        <button type="button" className="button primary" onClick={() => void boot()}>
          Try again
        </button>
      </main>
    );
  }
  if (session === undefined) return <p className="page muted" role="status">Loading…</p>;
  if (session === null) {
    if (route.page !== 'login') return null;
    return (
      <LoginPage
        api={api}
        notice={notice}
        onLogin={(s) => {
          tabStore()?.setItem(HAD_SESSION, '1');
          setNotice(undefined);
          setSession(s);
        }}
      />
    );
  }

  const context: AppContextValue = { api, session, providers: config.providers, config };
  return (
    <AppContext.Provider value={context}>
      {expired && <ReloginDialog api={api} notice={expired} user={session.principal.replace(/^user\./, '')} onLogin={relogged} onGiveUp={giveUp} />}
      <Layout onLogout={logout}>
        {route.page === 'home' && <HomePage />}
        {route.page === 'create-domain' && <CreateDomainPage />}
        {route.page === 'domain' && <DomainPage key={route.domain} domain={route.domain} tab={route.tab} />}
        {route.page === 'instances' && <InstancesPage domain={route.domain} service={route.service} />}
        {(route.page === 'not-found' || route.page === 'login') && <NotFoundPage />}
      </Layout>
    </AppContext.Provider>
  );
}
