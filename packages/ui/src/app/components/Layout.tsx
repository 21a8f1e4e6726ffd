/** The frame of every logged-in page: the top bar with navigation, who is logged in, and Log out. */
import { useState, type ReactNode } from 'react';
import type { ApiError } from '../api.ts';
import { useApp } from '../app-context.tsx';
import { Link, paths } from '../router.tsx';
import { toApiError } from '../use-load.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

export function Layout({ onLogout, children }: { onLogout(): Promise<void>; children: ReactNode }) {
  const { session } = useApp();
  const [error, setError] = useState<ApiError>();
  const logout = async () => {
    setError(undefined);
    try {
      await onLogout();
    } catch (e) {
      setError(toApiError(e));
    }
  };
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to={paths.home()} className="brand">
          <img src="/favicon.svg" alt="" width="24" height="24" />
          Tessera
        </Link>
        <nav aria-label="Main">
          <Link to={paths.home()}>Domains</Link>
          <Link to={paths.createDomain()}>Create domain</Link>
        </nav>
        <div className="who">
          <span className="principal" data-testid="principal">
            {session.principal}
          </span>
          {session.systemAdmin && <span className="badge">system admin</span>}
          <button type="button" className="button small ghost" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      {error && (
        <div className="page">
          <ErrorMessage error={error} prefix="Logging out failed" />
        </div>
      )}
      <main className="page" id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
