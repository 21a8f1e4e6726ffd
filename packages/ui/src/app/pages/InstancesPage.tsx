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

/** What the agent's User-Agent said (SIA-<platform>): Tessera's siad names EC2, Fargate or EKS; Athenz's AWS agents all say AWS. */
const PLATFORMS: Record<string, string> = { AWS: 'AWS', EC2: 'EC2', FARGATE: 'Fargate', EKS: 'EKS' };
const platformLabel = (p: string): string => PLATFORMS[p.toUpperCase()] ?? p;

/** A host name that may wrap after each dot (not inside a label), so the table keeps to the screen. */
const atDots = (name: string) => name.split(/(?<=\.)/).map((part, i) => (i === 0 ? part : [<wbr key={i} />, part]));

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
      <p className="muted">Workloads that registered with ZTS for this identity, newest refresh first. Platform and host name are what each instance's siad reported; ZTS does not verify them.</p>
      <Done message={status} />
      <LoadStatus loaded={instances} what="instances" failure="Could not list the instances" />
      {instances.data && list.length === 0 && <p className="empty">No instances yet. They appear here once siad in a workload registers with ZTS.</p>}
      {list.length > 0 && (
        <div className="table-wrap">
          <table className="table instances stack">
            <thead>
              <tr>
                <th scope="col">Instance id</th>
                <th scope="col">Provider</th>
                <th scope="col">Platform</th>
                <th scope="col">Host name</th>
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
                  <th scope="row" data-label="Instance id">
                    <code className="breakable">{i.instanceId}</code>
                    {i.revoked && <span className="badge warn">revoked</span>}
                    {i.takeover && (
                      <span className="sub takeover" data-testid="takeover">
                        <span className="badge warn">taken over</span> <Time value={i.takeover.time} />: now from <code>{i.takeover.currentIp}</code>, before from <code>{i.takeover.previousIp}</code>. {i.takeover.detail}
                      </span>
                    )}
                  </th>
                  <td data-label="Provider">
                    <code>{i.provider}</code>
                  </td>
                  <td data-label="Platform">{i.platform ? platformLabel(i.platform) : <span className="muted">—</span>}</td>
                  <td data-label="Host name">{i.hostname ? <code className="host">{atDots(i.hostname)}</code> : <span className="muted">—</span>}</td>
                  <td data-label="Issued">
                    <Time value={i.issued} />
                  </td>
                  <td data-label="Expires">
                    <Time value={i.expires} />
                  </td>
                  <td data-label="Last refresh">
                    <Time value={i.lastRefresh} />
                  </td>
                  <td data-label="Client IP">{i.clientIp || <span className="muted">—</span>}</td>
                  <td className="actions" data-label="Actions">
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
