/** Roles of a domain with their members (and expiry); add or remove a member, add or delete a role. */
import { useState, type FormEvent } from 'react';
import { useApp } from '../app-context.tsx';
import { AddButton } from '../components/AddButton.tsx';
import { AddForm } from '../components/AddForm.tsx';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { TextField } from '../components/Field.tsx';
import { Done, LoadStatus } from '../components/Loading.tsx';
import { AddActions, Modal } from '../components/Modal.tsx';
import { Time } from '../components/Time.tsx';
import { splitList } from '../format.ts';
import { useAction, useLoad } from '../use-load.ts';
import { membersProblem, nameProblem, useValidation } from '../use-validation.ts';
import { entityName, zms, type Domain, type Role } from '../zms-client.ts';
import { AuditRefField } from './AuditRefField.tsx';

/** A date picked in the form means "until the end of that day", local time. */
const endOfDay = (date: string): string | undefined => (date ? new Date(`${date}T23:59:59`).toISOString() : undefined);

export function RolesTab({ domain, onChanged }: { domain: Domain; onChanged(): void }) {
  const { api } = useApp();
  const d = domain.name;
  const roles = useLoad(() => zms.roles(api, d), [d]);
  const [auditRef, setAuditRef] = useState('');
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<{ role: string; member: string }>();
  const [deleting, setDeleting] = useState<string>();
  const [status, setStatus] = useState<string>();

  const done = async (message: string) => {
    setStatus(message);
    await roles.reload();
    onChanged();
  };
  const ref = auditRef.trim() || undefined;

  return (
    <section aria-labelledby="roles-title">
      <div className="section-head">
        <h2 id="roles-title">Roles</h2>
        <AddButton label="Add role" loaded={roles} what="roles" onClick={() => setAdding(true)} />
      </div>
      <p className="muted">Members of a role get what the domain's policies grant to it. Members with an expiry date lose it then.</p>
      {domain.auditEnabled && <AuditRefField value={auditRef} onChange={setAuditRef} />}
      <Done message={status} />
      <LoadStatus loaded={roles} what="roles" failure="Could not list the roles" />
      {(roles.data ?? []).map((r) => (
        <RoleCard
          key={r.name}
          domain={d}
          role={r}
          auditRef={ref}
          onAdded={(member) => done(`Added ${member} to role ${entityName(r.name)}.`)}
          onRemove={(member) => setRemoving({ role: entityName(r.name), member })}
          onDelete={() => setDeleting(entityName(r.name))}
        />
      ))}
      {adding && (
        <AddRoleDialog
          domain={d}
          auditRef={ref}
          existing={(roles.data ?? []).map((r) => entityName(r.name))}
          onClose={() => setAdding(false)}
          onAdded={async (name) => {
            setAdding(false);
            await done(`Role ${name} added.`);
          }}
        />
      )}
      {removing && (
        <ConfirmDialog
          title={`Remove ${removing.member}?`}
          confirmLabel="Remove member"
          onClose={() => setRemoving(undefined)}
          onConfirm={async () => {
            await zms.deleteMember(api, d, removing.role, removing.member, ref);
            await done(`Removed ${removing.member} from role ${removing.role}.`);
          }}
        >
          <p>
            <strong>{removing.member}</strong> will no longer be a member of role <strong>{removing.role}</strong> in {d}.
          </p>
        </ConfirmDialog>
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete role ${deleting}?`}
          confirmLabel="Delete role"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await zms.deleteRole(api, d, deleting, ref);
            await done(`Role ${deleting} deleted.`);
          }}
        >
          <p>
            This deletes role <strong>{deleting}</strong> and its members. Policy assertions that name it grant nothing afterwards.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

interface RoleCardProps {
  domain: string;
  role: Role;
  auditRef?: string;
  onAdded(member: string): Promise<void>;
  onRemove(member: string): void;
  onDelete(): void;
}

function RoleCard({ domain, role, auditRef, onAdded, onRemove, onDelete }: RoleCardProps) {
  const { api } = useApp();
  const name = entityName(role.name);
  const members = role.roleMembers ?? [];
  const [member, setMember] = useState('');
  const [expires, setExpires] = useState('');
  const [adding, setAdding] = useState(false);
  const { busy, error, run, setError } = useAction();
  const v = useValidation<'member'>();
  const now = Date.now();

  const add = async (e: FormEvent) => {
    e.preventDefault();
    if (!v.check({ member: membersProblem(member.trim() ? [member.trim()] : [], true) })) return;
    const m = member.trim().toLowerCase();
    await run(async () => {
      await zms.putMember(api, domain, name, m, endOfDay(expires), auditRef);
      setMember('');
      setExpires('');
      setAdding(false);
      await onAdded(m);
    });
  };

  return (
    <article className="card role" aria-labelledby={`role-${name}`} data-role={name}>
      <div className="section-head">
        <h3 id={`role-${name}`}>
          {name}
          {role.trust && <span className="sub"> delegated to {role.trust}</span>}
        </h3>
        {name !== 'admin' && (
          <button type="button" className="button small danger-outline" aria-label={`Delete role ${name}`} onClick={onDelete}>
            Delete role
          </button>
        )}
      </div>
      {members.length === 0 ? (
        <p className="muted">{role.trust ? `Members are managed in ${role.trust}.` : 'No members.'}</p>
      ) : (
        <div className="table-wrap">
          <table className="table compact stack" aria-label={`Members of ${name}`}>
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.map((m) => (
                <tr key={m.memberName}>
                  <th scope="row" data-label="Member">
                    <code>{m.memberName}</code>
                  </th>
                  <td data-label="Expires">
                    {m.expiration ? <Time value={m.expiration} /> : <span className="muted">never</span>}
                    {m.expiration && Date.parse(m.expiration) < now && <span className="badge warn">expired</span>}
                  </td>
                  <td className="actions" data-label="Actions">
                    <button type="button" className="button small danger-outline" aria-label={`Remove ${m.memberName} from ${name}`} onClick={() => onRemove(m.memberName)}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {!role.trust && (
        <AddForm
          label="Add member"
          formLabel={`Add a member to ${name}`}
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
          <TextField label="New member" error={v.errors.member} value={member} onChange={(e) => setMember(e.target.value)} placeholder="user.jane" />
          <TextField label="Expires (optional)" type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </AddForm>
      )}
      <ErrorMessage error={error} />
    </article>
  );
}

interface AddRoleProps {
  domain: string;
  auditRef?: string;
  existing: string[];
  onClose(): void;
  onAdded(name: string): Promise<void>;
}

function AddRoleDialog({ domain, auditRef, existing, onClose, onAdded }: AddRoleProps) {
  const { api } = useApp();
  const [name, setName] = useState('');
  const [members, setMembers] = useState('');
  const { busy, error, run } = useAction();
  const v = useValidation<'name' | 'members'>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const role = name.trim().toLowerCase();
    const list = splitList(members);
    const ok = v.check({
      // PUT replaces a role's members: refuse an existing name instead of wiping it.
      name: nameProblem('role name', name) ?? (existing.includes(role) ? `"${name.trim()}" is already a role of ${domain}: add members to it on its card.` : undefined),
      members: membersProblem(list, false),
    });
    if (!ok) return;
    await run(async () => {
      await zms.putRole(api, domain, role, list.map((m) => ({ memberName: m.toLowerCase() })), auditRef);
      await onAdded(role);
    });
  };
  return (
    <Modal title={`Add role to ${domain}`} onClose={onClose}>
      <form onSubmit={submit} noValidate ref={v.formRef}>
        <TextField label="Role name" required error={v.errors.name} value={name} onChange={(e) => setName(e.target.value)} hint="e.g. readers" />
        <TextField label="Members" error={v.errors.members} value={members} onChange={(e) => setMembers(e.target.value)} hint="Optional, separated by commas: user.jane, sports.api" />
        <ErrorMessage error={error} />
        <AddActions label="Add role" busy={busy} onCancel={onClose} />
      </form>
    </Modal>
  );
}
