/**
 * Login: user name and password become a session — the token in an HttpOnly
 * cookie the page cannot read, and a CSRF token sent with every change.
 * The same form logs in again, in a dialog, when a session runs out mid-work.
 */
import { useState, type FormEvent } from 'react';
import type { Api } from '../api.ts';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { TextField } from '../components/Field.tsx';
import { Modal } from '../components/Modal.tsx';
import { useAction } from '../use-load.ts';
import { useTitle } from '../use-title.ts';
import { useValidation } from '../use-validation.ts';
import { zms, type Session } from '../zms-client.ts';

interface LoginFormProps {
  api: Api;
  onLogin(session: Session): void;
  /** The user name to start with (logging in again: the one whose session ran out). */
  user?: string;
  autoFocus?: boolean;
}

function LoginFields({ api, onLogin, user: initialUser = '', autoFocus }: LoginFormProps) {
  const [user, setUser] = useState(initialUser);
  const [password, setPassword] = useState('');
  const { busy, error, run } = useAction();
  const v = useValidation<'user' | 'password'>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!v.check({ user: user.trim() ? undefined : 'Enter your user name.', password: password ? undefined : 'Enter your password.' })) return;
    await run(async () => {
      const s = await zms.login(api, user.trim(), password);
      onLogin({ principal: s.principal, systemAdmin: s.systemAdmin });
    });
  };

  return (
    <form onSubmit={submit} noValidate ref={v.formRef} aria-label="Log in">
      <TextField label="User name" name="user" autoComplete="username" autoFocus={autoFocus} error={v.errors.user} value={user} onChange={(e) => setUser(e.target.value)} hint="e.g. jane (or user.jane)" />
      <TextField label="Password" name="password" type="password" autoComplete="current-password" error={v.errors.password} value={password} onChange={(e) => setPassword(e.target.value)} data-autofocus={initialUser ? true : undefined} />
      <ErrorMessage error={error} />
      <button type="submit" className="button primary wide" disabled={busy}>
        {busy ? 'Logging in…' : 'Log in'}
      </button>
    </form>
  );
}

interface LoginPageProps {
  api: Api;
  /** Why the user is here (session expired, logged out). */
  notice?: string;
  onLogin(session: Session): void;
}

export function LoginPage({ api, notice, onLogin }: LoginPageProps) {
  useTitle('Log in');
  return (
    <main className="login" id="main">
      <section className="card login-card" aria-labelledby="login-title">
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
        <LoginFields api={api} onLogin={onLogin} autoFocus />
      </section>
    </main>
  );
}

/**
 * The session ran out while the user was working: log in again over the page,
 * so the page — and whatever was typed into an open dialog — stays as it was.
 */
export function ReloginDialog({ api, notice, user, onLogin, onGiveUp }: LoginPageProps & { user: string; onGiveUp(): void }) {
  return (
    <Modal title="Log in again" onClose={onGiveUp}>
      <p className="notice" role="status">
        {notice} What you were doing is kept.
      </p>
      <LoginFields api={api} onLogin={onLogin} user={user} />
    </Modal>
  );
}
