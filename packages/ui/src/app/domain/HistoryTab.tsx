/** The domain's audit log, newest first: who changed what, when, and why (the audit reference). */
import { useApp } from '../app-context.tsx';
import { LoadStatus } from '../components/Loading.tsx';
import { Time } from '../components/Time.tsx';
import { useLoad } from '../use-load.ts';
import { zms, type Domain } from '../zms-client.ts';

const LIMIT = 200;

const ACTIONS: Record<string, string> = {
  postTopLevelDomain: 'Created the domain',
  postSubDomain: 'Created the domain',
  postUserDomain: 'Created the domain',
  putDomainMeta: 'Changed domain details',
  putDomainSystemMeta: 'Changed a system attribute',
  putDomainTemplate: 'Applied a template',
  deleteDomainTemplate: 'Removed a template',
  putRole: 'Added or replaced a role',
  deleteRole: 'Deleted a role',
  putMembership: 'Added a member',
  deleteMembership: 'Removed a member',
  putPolicy: 'Added or replaced a policy',
  deletePolicy: 'Deleted a policy',
  putAssertion: 'Added an assertion',
  deleteAssertion: 'Removed an assertion',
  putServiceIdentity: 'Added or updated a service',
  deleteServiceIdentity: 'Deleted a service',
  putPublicKeyEntry: 'Added a public key',
  deletePublicKeyEntry: 'Removed a public key',
  putServiceIdentitySystemMeta: 'Changed a service attribute',
};

/** A detail value in words: assertions and members as sentences, lists joined, the rest as compact JSON. */
function describeValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.length === 0 ? 'none' : v.map(describeValue).join(', ');
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('action' in o && 'resource' in o && 'role' in o) return `${String(o.effect ?? 'ALLOW')} ${String(o.action)} on ${String(o.resource)} to ${String(o.role)}`;
    if (typeof o.memberName === 'string') return o.memberName + (typeof o.expiration === 'string' ? ` (until ${o.expiration})` : '');
    return JSON.stringify(v);
  }
  return String(v);
}

function Details({ details }: { details: unknown }) {
  if (details === null || details === undefined) return null;
  if (typeof details !== 'object' || Array.isArray(details)) return <>{describeValue(details)}</>;
  return (
    <ul className="kv">
      {Object.entries(details as Record<string, unknown>).map(([k, v]) => (
        <li key={k}>
          <span className="muted">{k}:</span> {describeValue(v)}
        </li>
      ))}
    </ul>
  );
}

export function HistoryTab({ domain, changes }: { domain: Domain; changes: number }) {
  const { api } = useApp();
  const history = useLoad(() => zms.history(api, domain.name, LIMIT), [domain.name, changes]);
  const entries = history.data ?? [];
  return (
    <section aria-labelledby="history-title">
      <div className="section-head">
        <h2 id="history-title">History</h2>
        <button type="button" className="button" onClick={() => void history.reload()} disabled={history.loading}>
          Refresh
        </button>
      </div>
      <p className="muted">Every change to {domain.name}, newest first{entries.length >= LIMIT ? ` (the latest ${LIMIT})` : ''}.</p>
      <LoadStatus loaded={history} what="history" failure="Could not read the history" />
      {history.data && entries.length === 0 && <p className="empty">No changes recorded.</p>}
      {entries.length > 0 && (
        <div className="table-wrap">
          <table className="table history stack">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Details</th>
                <th scope="col">Audit reference</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td className="nowrap" data-label="When">
                    <Time value={e.created} />
                  </td>
                  <td data-label="Who">
                    <code>{e.principal}</code>
                  </td>
                  <td data-label="What">
                    {ACTIONS[e.api] ?? e.api}
                    <span className="sub">
                      <code>{e.api}</code>
                    </span>
                  </td>
                  <td className="details" data-label="Details">
                    <Details details={e.details} />
                  </td>
                  <td data-label="Audit reference">{e.auditRef ?? <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
