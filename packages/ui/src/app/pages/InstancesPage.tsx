/**
 * The instances of a service, from the certificate records ZTS keeps: which
 * workloads hold its identity now. Revoking deletes the record, so that
 * instance's certificate can no longer be refreshed. A record that replaced a
 * live one of the same instance id from elsewhere is marked "taken over".
 */
import { useState } from 'react';
import { useApp } from '../app-context.tsx';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { Done, LoadStatus } from '../components/Loading.tsx';
import { Time } from '../components/Time.tsx';
import { Link, paths } from '../router.tsx';
import { useLoad } from '../use-load.ts';
import { useTitle } from '../use-title.ts';
import { zms, type Instance } from '../zms-client.ts';

export function InstancesPage({ domain, service }: { domain: string; service: string }) {
  useTitle(`${domain}.${service}`, 'Instances');
  const { api } = useApp();
  const instances = useLoad(() => zms.instances(api, domain, service), [domain, service]);
  const [revoking, setRevoking] = useState<Instance>();
  const [status, setStatus] = useState<string>();
  const list = instances.data ?? [];

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to={paths.domain(domain, 'services')}>{domain}</Link> <span aria-hidden="true">›</span> <Link to={paths.domain(domain, 'services')}>Services</Link> <span aria-hidden="true">›</span> <span>{service}</span>
      </nav>
      <div className="page-head">
        <h1>
          Instances of {domain}.{service}
        </h1>
        <button type="button" className="button" onClick={() => void instances.reload()} disabled={instances.loading}>
          Refresh
        </button>
      </div>
      <p className="muted">Workloads that registered with ZTS for this identity, newest refresh first.</p>
      <Done message={status} />
      <LoadStatus loaded={instances} what="instances" failure="Could not list the instances" />
      {instances.data && list.length === 0 && <p className="empty">No instances yet. They appear here once siad in a workload registers with ZTS.</p>}
      {list.length > 0 && (
        <div className="table-wrap">
          <table className="table instances">
            <thead>
              <tr>
                <th scope="col">Instance id</th>
                <th scope="col">Provider</th>
                <th scope="col">Issued</th>
                <th scope="col">Expires</th>
                <th scope="col">Last refresh</th>
                <th scope="col">Client IP</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((i) => (
                <tr key={`${i.provider}/${i.instanceId}`} data-instance={i.instanceId}>
                  <th scope="row">
                    <code>{i.instanceId}</code>
                    {i.revoked && <span className="badge warn">revoked</span>}
                    {i.takeover && (
                      <span className="sub takeover" data-testid="takeover">
                        <span className="badge warn">taken over</span> <Time value={i.takeover.time} />: now from <code>{i.takeover.currentIp}</code>, before from <code>{i.takeover.previousIp}</code>. {i.takeover.detail}
                      </span>
                    )}
                  </th>
                  <td>
                    <code>{i.provider}</code>
                  </td>
                  <td>
                    <Time value={i.issued} />
                  </td>
                  <td>
                    <Time value={i.expires} />
                  </td>
                  <td>
                    <Time value={i.lastRefresh} />
                  </td>
                  <td>{i.clientIp || <span className="muted">—</span>}</td>
                  <td className="actions">
                    <button type="button" className="button small danger-outline" aria-label={`Revoke instance ${i.instanceId}`} onClick={() => setRevoking(i)}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {revoking && (
        <ConfirmDialog
          title={`Revoke instance ${revoking.instanceId}?`}
          confirmLabel="Revoke instance"
          onClose={() => setRevoking(undefined)}
          onConfirm={async () => {
            await zms.revokeInstance(api, domain, service, revoking.provider, revoking.instanceId);
            setStatus(`Instance ${revoking.instanceId} revoked.`);
            await instances.reload();
          }}
        >
          <p>
            The instance keeps its current certificate until it expires (<Time value={revoking.expires} />) but can no longer refresh it. To get an identity again it must register anew.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
