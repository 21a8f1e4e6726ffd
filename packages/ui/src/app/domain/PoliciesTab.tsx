/** Policies of a domain and their assertions; add or remove an assertion, add or delete a policy. */
import { useId, useState, type FormEvent } from 'react';
import { useApp } from '../app-context.tsx';
import { AddButton } from '../components/AddButton.tsx';
import { AddForm } from '../components/AddForm.tsx';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { TextField } from '../components/Field.tsx';
import { Done, LoadStatus } from '../components/Loading.tsx';
import { AddActions, Modal } from '../components/Modal.tsx';
import { useAction, useLoad } from '../use-load.ts';
import { nameProblem, useValidation, type FieldErrors } from '../use-validation.ts';
import { entityName, zms, type Assertion, type Domain, type Policy } from '../zms-client.ts';
import { AuditRefField } from './AuditRefField.tsx';

interface AssertionInput {
  effect: 'ALLOW' | 'DENY';
  action: string;
  role: string;
  resource: string;
}
const EMPTY: AssertionInput = { effect: 'ALLOW', action: '', role: '', resource: '' };

type AssertionField = 'action' | 'role' | 'resource';

/** What is missing from an assertion, per field. */
function assertionProblems(a: AssertionInput): FieldErrors<AssertionField> {
  return {
    action: a.action.trim() ? undefined : 'Enter the action, e.g. read.',
    role: a.role.trim() ? undefined : 'Enter the role, e.g. readers.',
    resource: a.resource.trim() ? undefined : 'Enter the resource, e.g. service.api.',
  };
}

/** Short forms are completed with the domain: "readers" → "<d>:role.readers", "service.api" → "<d>:service.api". */
function toAssertion(d: string, a: AssertionInput): Assertion {
  const role = a.role.trim().toLowerCase();
  const resource = a.resource.trim();
  return {
    effect: a.effect,
    action: a.action.trim(),
    role: role.includes(':') ? role : `${d}:role.${role}`,
    resource: resource.includes(':') ? resource : `${d}:${resource}`,
  };
}

export function PoliciesTab({ domain, onChanged }: { domain: Domain; onChanged(): void }) {
  const { api } = useApp();
  const d = domain.name;
  const data = useLoad(async () => {
    const [policies, roles] = await Promise.all([zms.policies(api, d), zms.roles(api, d)]);
    return { policies, roles: roles.map((r) => entityName(r.name)) };
  }, [d]);
  const [auditRef, setAuditRef] = useState('');
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<{ policy: string; assertion: Assertion }>();
  const [deleting, setDeleting] = useState<string>();
  const [status, setStatus] = useState<string>();
  const rolesListId = useId();
  const ref = auditRef.trim() || undefined;

  const done = async (message: string) => {
    setStatus(message);
    await data.reload();
    onChanged();
  };

  return (
    <section aria-labelledby="policies-title">
      <div className="section-head">
        <h2 id="policies-title">Policies</h2>
        <AddButton label="Add policy" loaded={data} what="policies" onClick={() => setAdding(true)} />
      </div>
      <p className="muted">Each assertion lets the members of a role (or denies them to) perform an action on resources of this domain.</p>
      {domain.auditEnabled && <AuditRefField value={auditRef} onChange={setAuditRef} />}
      <Done message={status} />
      <LoadStatus loaded={data} what="policies" failure="Could not list the policies" />
      <datalist id={rolesListId}>
        {(data.data?.roles ?? []).map((r) => (
          <option key={r} value={r} />
        ))}
      </datalist>
      {(data.data?.policies ?? []).map((p) => (
        <PolicyCard
          key={p.name}
          domain={d}
          policy={p}
          auditRef={ref}
          rolesListId={rolesListId}
          onAdded={() => done(`Assertion added to policy ${entityName(p.name)}.`)}
          onRemove={(assertion) => setRemoving({ policy: entityName(p.name), assertion })}
          onDelete={() => setDeleting(entityName(p.name))}
        />
      ))}
      {adding && (
        <AddPolicyDialog
          domain={d}
          auditRef={ref}
          rolesListId={rolesListId}
          existing={(data.data?.policies ?? []).map((p) => entityName(p.name))}
          onClose={() => setAdding(false)}
          onAdded={async (name) => {
            setAdding(false);
            await done(`Policy ${name} added.`);
          }}
        />
      )}
      {removing && (
        <ConfirmDialog
          title="Remove this assertion?"
          confirmLabel="Remove assertion"
          onClose={() => setRemoving(undefined)}
          onConfirm={async () => {
            await zms.deleteAssertion(api, d, removing.policy, removing.assertion.id!, ref);
            await done(`Assertion removed from policy ${removing.policy}.`);
          }}
        >
          <p>
            <AssertionText a={removing.assertion} /> — from policy <strong>{removing.policy}</strong>.
          </p>
        </ConfirmDialog>
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete policy ${deleting}?`}
          confirmLabel="Delete policy"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await zms.deletePolicy(api, d, deleting, ref);
            await done(`Policy ${deleting} deleted.`);
          }}
        >
          <p>
            This deletes policy <strong>{deleting}</strong> with all its assertions.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function AssertionText({ a }: { a: Assertion }) {
  return (
    <>
      <strong>{a.effect ?? 'ALLOW'}</strong> <code>{a.action}</code> on <code>{a.resource}</code> to <code>{a.role}</code>
    </>
  );
}

interface PolicyCardProps {
  domain: string;
  policy: Policy;
  auditRef?: string;
  rolesListId: string;
  onAdded(): Promise<void>;
  onRemove(a: Assertion): void;
  onDelete(): void;
}

function PolicyCard({ domain, policy, auditRef, rolesListId, onAdded, onRemove, onDelete }: PolicyCardProps) {
  const { api } = useApp();
  const name = entityName(policy.name);
  const [input, setInput] = useState<AssertionInput>(EMPTY);
  const [adding, setAdding] = useState(false);
  const { busy, error, run, setError } = useAction();
  const v = useValidation<AssertionField>();

  const add = async (e: FormEvent) => {
    e.preventDefault();
    if (!v.check(assertionProblems(input))) return;
    const a = toAssertion(domain, input);
    await run(async () => {
      await zms.putAssertion(api, domain, name, a, auditRef);
      setInput(EMPTY);
      setAdding(false);
      await onAdded();
    });
  };

  return (
    <article className="card policy" aria-labelledby={`policy-${name}`} data-policy={name}>
      <div className="section-head">
        <h3 id={`policy-${name}`}>{name}</h3>
        {name !== 'admin' && (
          <button type="button" className="button small danger-outline" aria-label={`Delete policy ${name}`} onClick={onDelete}>
            Delete policy
          </button>
        )}
      </div>
      {policy.assertions.length === 0 ? (
        <p className="muted">No assertions: this policy grants nothing.</p>
      ) : (
        <div className="table-wrap">
          <table className="table compact stack" aria-label={`Assertions of ${name}`}>
            <thead>
              <tr>
                <th scope="col">Effect</th>
                <th scope="col">Action</th>
                <th scope="col">Role</th>
                <th scope="col">Resource</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {policy.assertions.map((a) => (
                <tr key={a.id ?? `${a.role} ${a.action} ${a.resource}`}>
                  <td data-label="Effect">
                    <span className={`badge ${a.effect === 'DENY' ? 'deny' : 'allow'}`}>{a.effect ?? 'ALLOW'}</span>
                  </td>
                  <td data-label="Action">
                    <code>{a.action}</code>
                  </td>
                  <td data-label="Role">
                    <code>{a.role}</code>
                  </td>
                  <td data-label="Resource">
                    <code>{a.resource}</code>
                  </td>
                  <td className="actions" data-label="Actions">
                    {a.id !== undefined && (
                      <button type="button" className="button small danger-outline" aria-label={`Remove assertion ${a.action} on ${a.resource} from ${name}`} onClick={() => onRemove(a)}>
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <AddForm
        label="Add assertion"
        formLabel={`Add an assertion to ${name}`}
        open={adding}
        onOpen={() => setAdding(true)}
        onCancel={() => {
          setAdding(false);
          v.check({});
          setError(undefined);
        }}
        onSubmit={add}
        formRef={v.formRef}
        busy={busy}
      >
        <AssertionFields value={input} onChange={setInput} rolesListId={rolesListId} errors={v.errors} />
      </AddForm>
      <ErrorMessage error={error} />
    </article>
  );
}

interface AssertionFieldsProps {
  value: AssertionInput;
  onChange(v: AssertionInput): void;
  rolesListId: string;
  errors: FieldErrors<AssertionField>;
}

function AssertionFields({ value, onChange, rolesListId, errors }: AssertionFieldsProps) {
  const effectId = useId();
  return (
    <>
      <div className="field">
        <label htmlFor={effectId}>Effect</label>
        <select id={effectId} value={value.effect} onChange={(e) => onChange({ ...value, effect: e.target.value as AssertionInput['effect'] })}>
          <option value="ALLOW">ALLOW</option>
          <option value="DENY">DENY</option>
        </select>
      </div>
      <TextField label="Action" error={errors.action} value={value.action} onChange={(e) => onChange({ ...value, action: e.target.value })} placeholder="read" />
      <TextField label="Role" error={errors.role} value={value.role} list={rolesListId} onChange={(e) => onChange({ ...value, role: e.target.value })} placeholder="readers" />
      <TextField label="Resource" error={errors.resource} value={value.resource} onChange={(e) => onChange({ ...value, resource: e.target.value })} placeholder="service.api" />
    </>
  );
}

interface AddPolicyProps {
  domain: string;
  auditRef?: string;
  rolesListId: string;
  existing: string[];
  onClose(): void;
  onAdded(name: string): Promise<void>;
}

function AddPolicyDialog({ domain, auditRef, rolesListId, existing, onClose, onAdded }: AddPolicyProps) {
  const { api } = useApp();
  const [name, setName] = useState('');
  const [input, setInput] = useState<AssertionInput>(EMPTY);
  const { busy, error, run } = useAction();
  const v = useValidation<'name' | AssertionField>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const policy = name.trim().toLowerCase();
    const ok = v.check({
      // PUT replaces a policy's assertions: refuse an existing name instead of wiping it.
      name: nameProblem('policy name', name) ?? (existing.includes(policy) ? `"${name.trim()}" is already a policy of ${domain}: add assertions to it on its card.` : undefined),
      ...assertionProblems(input),
    });
    if (!ok) return;
    await run(async () => {
      await zms.putPolicy(api, domain, policy, [toAssertion(domain, input)], auditRef);
      await onAdded(policy);
    });
  };
  return (
    <Modal title={`Add policy to ${domain}`} onClose={onClose}>
      <form onSubmit={submit} noValidate ref={v.formRef}>
        <TextField label="Policy name" required error={v.errors.name} value={name} onChange={(e) => setName(e.target.value)} hint="e.g. readers" />
        <fieldset className="stack">
          <legend>First assertion</legend>
          <AssertionFields value={input} onChange={setInput} rolesListId={rolesListId} errors={v.errors} />
        </fieldset>
        <ErrorMessage error={error} />
        <AddActions label="Add policy" busy={busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}
