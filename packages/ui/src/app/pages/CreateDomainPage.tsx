/**
 * Create a domain: top-level (system administrators only: ZMS checks `create`
 * on sys.auth:domain), a sub-domain of one I administer, or my personal domain.
 */
import { useId, useState, type FormEvent } from 'react';
import { useApp } from '../app-context.tsx';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { TextField } from '../components/Field.tsx';
import { LoadFailure } from '../components/Loading.tsx';
import { splitList } from '../format.ts';
import { Link, navigate, paths } from '../router.tsx';
import { toApiError, useAction, useLoad } from '../use-load.ts';
import { useTitle } from '../use-title.ts';
import { domainProblem, membersProblem, nameProblem, useValidation } from '../use-validation.ts';
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

/** Submits a create form: once `valid()` passes, `create` returns the new domain's name and its page opens. */
function useSubmit(create: () => Promise<string>, valid: () => boolean = () => true) {
  const { busy, error, run } = useAction();
  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!valid()) return;
    await run(async () => navigate(paths.domain(await create(), 'services')));
  };
  return { busy, error, submit };
}

/** AWS account ids: 12 digits each, separated by commas. */
function accountsProblem(typed: string): string | undefined {
  const bad = splitList(typed).find((a) => !/^\d{12}$/.test(a));
  return bad === undefined ? undefined : `"${bad}" is not an AWS account id: 12 digits, several separated by commas.`;
}

function TopLevelForm() {
  const { api, session } = useApp();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [account, setAccount] = useState('');
  const [productId, setProductId] = useState('');
  const [admins, setAdmins] = useState(session.principal);
  const v = useValidation<'name' | 'account' | 'admins'>();
  const valid = () =>
    v.check({
      name: domainProblem('domain name', name),
      account: accountsProblem(account),
      admins: membersProblem(splitList(admins), true)?.replace('Enter the member to add', 'Enter at least one administrator'),
    });
  const { busy, error, submit } = useSubmit(async () => {
    const created = await zms.createTopLevel(api, {
      name: name.trim().toLowerCase(),
      adminUsers: splitList(admins.toLowerCase()),
      ...(description.trim() ? { description: description.trim() } : {}),
      ...(account.trim() ? { account: splitList(account).join(',') } : {}),
      ...(productId.trim() ? { productId: productId.trim() } : {}),
    });
    return created.name;
  }, valid);
  return (
    <form onSubmit={submit} aria-label="Create a top-level domain" noValidate ref={v.formRef}>
      <TextField label="Domain name" required error={v.errors.name} value={name} onChange={(e) => setName(e.target.value)} hint="Letters, digits, - and _; e.g. sports" />
      <TextField label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
      <TextField label="AWS account id(s)" error={v.errors.account} value={account} onChange={(e) => setAccount(e.target.value)} hint="12 digits; several separated by commas. ZTS only issues certificates to workloads in these accounts." />
      <TextField label="Product id" value={productId} onChange={(e) => setProductId(e.target.value)} />
      <TextField label="Administrators" required error={v.errors.admins} value={admins} onChange={(e) => setAdmins(e.target.value)} hint="Members of the admin role, separated by commas, e.g. user.jane, user.joe" />
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
  const v = useValidation<'parent' | 'name'>();
  const valid = () => v.check({ parent: domainProblem('parent domain', parent), name: nameProblem('sub-domain name', name) });
  const { busy, error, submit } = useSubmit(async () => {
    const created = await zms.createSubDomain(api, parent.trim().toLowerCase(), {
      name: name.trim().toLowerCase(),
      adminUsers: [session.principal],
      ...(description.trim() ? { description: description.trim() } : {}),
    });
    return created.name;
  }, valid);
  return (
    <form onSubmit={submit} aria-label="Create a sub-domain" noValidate ref={v.formRef}>
      <p className="muted">Administrators of the parent domain may create sub-domains. You become the administrator of the new domain; it inherits nothing from its parent.</p>
      <TextField label="Parent domain" required error={v.errors.parent} list={listId} value={parent} onChange={(e) => setParent(e.target.value)} hint="An existing domain you administer" />
      <datalist id={listId}>
        {(mine.data ?? []).map((d) => (
          <option key={d} value={d} />
        ))}
      </datalist>
      <TextField label="Sub-domain name" required error={v.errors.name} value={name} onChange={(e) => setName(e.target.value)} hint={parent ? `Creates ${parent.trim().toLowerCase()}.${name.trim().toLowerCase() || '<name>'}` : 'The last part of the name, e.g. dev'} />
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
      <LoadFailure loaded={exists} failure="Could not check whether it exists" />
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
