/**
 * Create a domain: top-level (system administrators only: ZMS checks `create`
 * on sys.auth:domain), a sub-domain of one I administer, or my personal domain.
 */
import { useId, useState, type FormEvent } from 'react';
import { useApp } from '../app-context.tsx';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { TextField } from '../components/Field.tsx';
import { splitList } from '../format.ts';
import { Link, navigate, paths } from '../router.tsx';
import { toApiError, useAction, useLoad } from '../use-load.ts';
import { useTitle } from '../use-title.ts';
import { zms } from '../zms-client.ts';

type Kind = 'top' | 'sub' | 'personal';

export function CreateDomainPage() {
  useTitle('Create domain');
  const { api, session } = useApp();
  const [kind, setKind] = useState<Kind>(session.systemAdmin ? 'top' : 'sub');
  const groupId = useId();
  const kinds: { value: Kind; label: string; disabled?: boolean }[] = [
    { value: 'top', label: 'Top-level domain', disabled: !session.systemAdmin },
    { value: 'sub', label: 'Sub-domain' },
    { value: 'personal', label: 'Personal domain' },
  ];
  return (
    <>
      <h1>Create domain</h1>
      <div className="card">
        <fieldset className="choice">
          <legend id={groupId}>Kind of domain</legend>
          {kinds.map((k) => (
            <label key={k.value} className={k.disabled ? 'disabled' : undefined}>
              <input type="radio" name="kind" value={k.value} checked={kind === k.value} disabled={k.disabled} onChange={() => setKind(k.value)} />
              {k.label}
            </label>
          ))}
        </fieldset>
        {!session.systemAdmin && <p className="muted">Only system administrators create top-level domains: ask one, or create a sub-domain of a domain you administer.</p>}
        {kind === 'top' && <TopLevelForm />}
        {kind === 'sub' && <SubDomainForm />}
        {kind === 'personal' && <PersonalDomain principal={session.principal} api={api} />}
      </div>
    </>
  );
}

/** Submits a create form: `create` returns the new domain's name (or throws the reason in words), then its page opens. */
function useSubmit(create: () => Promise<string>) {
  const { busy, error, run } = useAction();
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    await run(async () => navigate(paths.domain(await create(), 'services')));
  };
  return { busy, error, submit };
}

function TopLevelForm() {
  const { api, session } = useApp();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [account, setAccount] = useState('');
  const [productId, setProductId] = useState('');
  const [admins, setAdmins] = useState(session.principal);
  const { busy, error, submit } = useSubmit(async () => {
    if (!name.trim()) throw 'Enter a name for the domain.';
    const created = await zms.createTopLevel(api, {
      name: name.trim().toLowerCase(),
      adminUsers: splitList(admins),
      ...(description.trim() ? { description: description.trim() } : {}),
      ...(account.trim() ? { account: account.trim() } : {}),
      ...(productId.trim() ? { productId: productId.trim() } : {}),
    });
    return created.name;
  });
  return (
    <form onSubmit={submit} aria-label="Create a top-level domain">
      <TextField label="Domain name" required value={name} onChange={(e) => setName(e.target.value)} hint="Letters, digits, - and _; e.g. sports" />
      <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
      <TextField label="AWS account id(s)" value={account} onChange={(e) => setAccount(e.target.value)} hint="12 digits; several separated by commas. ZTS only issues certificates to workloads in these accounts." />
      <TextField label="Product id" value={productId} onChange={(e) => setProductId(e.target.value)} />
      <TextField label="Administrators" required value={admins} onChange={(e) => setAdmins(e.target.value)} hint="Members of the admin role, separated by commas, e.g. user.jane, user.joe" />
      <ErrorMessage error={error} />
      <button type="submit" className="button primary" disabled={busy}>
        {busy ? 'Creating…' : 'Create domain'}
      </button>
    </form>
  );
}

function SubDomainForm() {
  const { api, session } = useApp();
  const mine = useLoad(() => zms.domainNames(api, { member: session.principal }), [session.principal]);
  const [parent, setParent] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const listId = useId();
  const { busy, error, submit } = useSubmit(async () => {
    if (!parent.trim()) throw 'Enter the parent domain.';
    if (!name.trim()) throw 'Enter a name for the sub-domain.';
    const created = await zms.createSubDomain(api, parent.trim().toLowerCase(), {
      name: name.trim().toLowerCase(),
      adminUsers: [session.principal],
      ...(description.trim() ? { description: description.trim() } : {}),
    });
    return created.name;
  });
  return (
    <form onSubmit={submit} aria-label="Create a sub-domain">
      <p className="muted">Administrators of the parent domain may create sub-domains. You become the administrator of the new domain; it inherits nothing from its parent.</p>
      <TextField label="Parent domain" required list={listId} value={parent} onChange={(e) => setParent(e.target.value)} hint="An existing domain you administer" />
      <datalist id={listId}>
        {(mine.data ?? []).map((d) => (
          <option key={d} value={d} />
        ))}
      </datalist>
      <TextField label="Sub-domain name" required value={name} onChange={(e) => setName(e.target.value)} hint={parent ? `Creates ${parent.trim().toLowerCase()}.${name.trim().toLowerCase() || '<name>'}` : 'The last part of the name, e.g. dev'} />
      <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
      <ErrorMessage error={error} />
      <button type="submit" className="button primary" disabled={busy}>
        {busy ? 'Creating…' : 'Create sub-domain'}
      </button>
    </form>
  );
}

function PersonalDomain({ principal, api }: { principal: string; api: ReturnType<typeof useApp>['api'] }) {
  // The personal domain has the principal's own name: user.jane for user.jane.
  const exists = useLoad(async () => {
    try {
      await zms.domain(api, principal);
      return true;
    } catch (e) {
      if (toApiError(e).status === 404) return false;
      throw e;
    }
  }, [principal]);
  const { busy, error, submit } = useSubmit(async () => (await zms.createUserDomain(api, principal.slice(principal.lastIndexOf('.') + 1))).name);
  return (
    <div>
      <p>
        Your personal domain is <strong>{principal}</strong>. You are its administrator; use it to try things out.
      </p>
      <ErrorMessage error={exists.error} prefix="Could not check whether it exists" />
      {exists.data === true ? (
        <p>
          It already exists: <Link to={paths.domain(principal, 'services')}>open {principal}</Link>.
        </p>
      ) : (
        <button type="button" className="button primary" onClick={() => void submit()} disabled={busy || exists.loading}>
          {busy ? 'Creating…' : `Create ${principal}`}
        </button>
      )}
      <ErrorMessage error={error} />
    </div>
  );
}
