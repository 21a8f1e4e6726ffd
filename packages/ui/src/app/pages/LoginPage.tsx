/**
 * Login: user name and password become a session — the token in an HttpOnly
 * cookie the page cannot read, and a CSRF token sent with every change.
 */
import { useState, type FormEvent } from 'react';
import type { Api } from '../api.ts';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { TextField } from '../components/Field.tsx';
import { useAction } from '../use-load.ts';
import { useTitle } from '../use-title.ts';
import { zms, type Session } from '../zms-client.ts';

interface LoginProps {
  api: Api;
  /** Why the user is here (session expired, logged out). */
  notice?: string;
  onLogin(session: Session): void;
}

export function LoginPage({ api, notice, onLogin }: LoginProps) {
  useTitle('Log in');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, setError, run } = useAction();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!user.trim() || !password) {
      setError('Enter your user name and password.');
      return;
    }
    await run(async () => {
      const s = await zms.login(api, user.trim(), password);
      onLogin({ principal: s.principal, systemAdmin: s.systemAdmin });
    });
  };

  return (
    <main className="login" id="main">
      <form className="card login-card" onSubmit={submit} aria-labelledby="login-title" noValidate>
        <div className="login-brand">
          <img src="/favicon.svg" alt="" width="36" height="36" />
          <span>Tessera</span>
        </div>
        <h1 id="login-title">Log in</h1>
        <p className="muted">Manage domains, services and their identity providers.</p>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <TextField label="User name" name="user" autoComplete="username" autoFocus value={user} onChange={(e) => setUser(e.target.value)} hint="e.g. jane (or user.jane)" />
        <TextField label="Password" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        <ErrorMessage error={error} />
        <button type="submit" className="button primary wide" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
