/**
 * Services of a domain: Add a Service, and a table with modified date, public
 * keys, whether an identity provider may launch it (✓ allowed), how many
 * instances hold its identity, the last refused attempt when it is newer than
 * the last certificate, and delete.
 */
import { Fragment, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { AddButton } from '../components/AddButton.tsx';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { Done, LoadStatus } from '../components/Loading.tsx';
import { Time } from '../components/Time.tsx';
import { timeAgo, ybase64Decode } from '../format.ts';
import { Link, paths } from '../router.tsx';
import type { ProviderConfig } from '../providers.ts';
import { toApiError, useLoad } from '../use-load.ts';
import { domainAccounts, serviceName, zms, type Domain, type ServiceIdentity, type ServiceStatus } from '../zms-client.ts';
import { AddServiceDialog } from './AddServiceDialog.tsx';
import { ProvidersPanel } from './ProvidersPanel.tsx';

type Panel = 'providers' | 'keys';

export function ServicesTab({ domain, onChanged }: { domain: Domain; onChanged(): void }) {
  const { api, providers } = useApp();
  const d = domain.name;
  const accounts = domainAccounts(domain);
  const services = useLoad(() => zms.services(api, d), [d]);
  const names = (services.data ?? []).map((s) => serviceName(s.name));
  // Which providers may launch each service: asked of ZMS, like the Providers panel does.
  const launch = useLoad(async () => {
    const entries = await Promise.all(
      names.map(async (n) => {
        const granted = await Promise.all(providers.map((p) => zms.mayLaunch(api, d, n, p.principal)));
        return [n, providers.filter((_, i) => granted[i])] as const;
      }),
    );
    return new Map<string, ProviderConfig[]>(entries);
  }, [d, names.join(','), providers]);
  // Instance counts and the last refusal, from ZTS's records; a server without the endpoint shows neither.
  const readiness = useLoad(async () => {
    try {
      return new Map((await zms.serviceStatus(api, d)).map((s) => [s.name, s] as const));
    } catch (e) {
      if (toApiError(e).status === 404) return new Map<string, ServiceStatus>();
      throw e;
    }
  }, [d, names.join(',')]);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<string>();
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [status, setStatus] = useState<string>();
  const [fresh, setFresh] = useState<string>();

  const toggle = (service: string, panel: Panel) =>
    setOpen((prev) => {
      const next = new Set(prev);
      const key = `${service}:${panel}`;
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });

  const list = services.data ?? [];
  return (
    <section aria-labelledby="services-title">
      <div className="section-head">
        <h2 id="services-title">Services</h2>
        <AddButton label="Add a Service" loaded={services} what="services" onClick={() => setAdding(true)} />
      </div>
      <p className="muted">
        A service is an identity, <code>{d}.&lt;name&gt;</code>. Allow an identity provider to launch it, and its workloads get X.509 certificates from ZTS.
      </p>
      <Done message={status} />
      <LoadStatus loaded={services} what="services" failure="Could not list the services" />
      {services.data && <LoadStatus loaded={launch} what="provider status" failure="Could not check which providers may launch the services" />}
      {services.data && <LoadStatus loaded={readiness} what="instance counts" failure="Could not read the instance counts" />}
      {services.data && list.length === 0 && <p className="empty">No services yet. Add one to give your workloads an identity.</p>}
      {list.length > 0 && (
        <div className="table-wrap">
          <table className="table services stack">
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Modified</th>
                <th scope="col">Public keys</th>
                <th scope="col">Providers</th>
                <th scope="col">Instances</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => {
                const name = serviceName(s.name);
                const keys = s.publicKeys ?? [];
                const keysOpen = open.has(`${name}:keys`);
                const providersOpen = open.has(`${name}:providers`);
                const allowedBy = launch.data?.get(name);
                const state = readiness.data?.get(name);
                const failure = state?.lastFailure && (!state.lastIssued || Date.parse(state.lastFailure.time) > Date.parse(state.lastIssued)) ? state.lastFailure : undefined;
                return (
                  <Fragment key={s.name}>
                    <tr className={fresh === name ? 'fresh' : undefined} data-service={name}>
                      <th scope="row" data-label="Service">
                        <span className="service-name">{name}</span>
                        {s.description && <span className="sub">{s.description}</span>}
                      </th>
                      <td data-label="Modified">
                        <Time value={s.modified} />
                      </td>
                      <td data-label="Public keys">
                        {keys.length === 0 ? (
                          <span className="muted">none</span>
                        ) : (
                          <button type="button" className="link-button" aria-expanded={keysOpen} onClick={() => toggle(name, 'keys')}>
                            {keys.length} key{keys.length === 1 ? '' : 's'} ({keys.map((k) => k.id).join(', ')})
                          </button>
                        )}
                      </td>
                      <td data-label="Providers">
                        <div className="provider-cell">
                          {allowedBy && allowedBy.length > 0 && (
                            <span className="allowed compact" title={allowedBy.map((p) => p.label).join('; ')} data-testid="launch-status">
                              <span aria-hidden="true">✓</span> allowed<span className="visually-hidden">: {allowedBy.map((p) => p.label).join('; ')}</span>
                            </span>
                          )}
                          {allowedBy && allowedBy.length === 0 && (
                            <span className="muted" data-testid="launch-status">
                              not allowed
                            </span>
                          )}
                          <button type="button" className="button small" aria-expanded={providersOpen} aria-label={`Providers of ${name}`} onClick={() => toggle(name, 'providers')}>
                            {providersOpen ? 'Hide providers' : 'Providers'}
                          </button>
                        </div>
                      </td>
                      <td data-label="Instances">
                        <Link to={paths.instances(d, name)} aria-label={`Instances of ${name}${state ? `: ${state.instances}` : ''}`}>
                          {state ? `${state.instances} instance${state.instances === 1 ? '' : 's'}` : 'Instances'}
                        </Link>
                      </td>
                      <td className="actions" data-label="Actions">
                        <button type="button" className="button small danger-outline" aria-label={`Delete service ${name}`} onClick={() => setDeleting(name)}>
                          Delete
                        </button>
                      </td>
                    </tr>
                    {failure && (
                      <tr className="attempt" data-attempt-for={name}>
                        <td colSpan={6} data-label="Last attempt">
                          <span className="badge warn">refused</span> last attempt <time dateTime={failure.time} title={failure.time}>{timeAgo(failure.time)}</time>: {failure.message}
                          <span className="sub">
                            {failure.provider ? <>provider <code>{failure.provider}</code></> : 'a provider that is not registered'}
                            {failure.clientIp && (
                              <>
                                {' '}
                                · from <code>{failure.clientIp}</code>
                              </>
                            )}
                          </span>
                        </td>
                      </tr>
                    )}
                    {keysOpen && (
                      <tr className="detail">
                        <td colSpan={6}>
                          <KeysPanel service={s} />
                        </td>
                      </tr>
                    )}
                    {providersOpen && (
                      <tr className="detail">
                        <td colSpan={6}>
                          <ProvidersPanel
                            domain={d}
                            accounts={accounts}
                            service={name}
                            onChanged={onChanged}
                            onAllowed={(p) => {
                              setStatus(`${p.label} may now launch ${d}.${name}. The next steps are below.`);
                              void launch.reload();
                            }}
                          />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {adding && (
        <AddServiceDialog
          domain={d}
          existing={list.map((s) => serviceName(s.name))}
          onClose={() => setAdding(false)}
          onAdded={async (name) => {
            setAdding(false);
            setStatus(`Service ${d}.${name} added. Allow the identity provider that launches its workloads, below.`);
            setFresh(name);
            setOpen((prev) => new Set(prev).add(`${name}:providers`));
            await services.reload();
            onChanged();
          }}
        />
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete service ${d}.${deleting}?`}
          confirmLabel="Delete service"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            await zms.deleteService(api, d, deleting);
            await services.reload();
            setStatus(`Service ${d}.${deleting} deleted.`);
            onChanged();
          }}
        >
          <p>
            This permanently deletes <strong>{d}.{deleting}</strong> and its public keys. Its workloads can no longer get or refresh certificates for it.
          </p>
          <LaunchRulesLeft domain={d} service={deleting} providers={launch.data?.get(deleting) ?? []} />
        </ConfirmDialog>
      )}
    </section>
  );
}

/**
 * Deleting a service leaves the launch rule Allow added (the template's policy
 * keeps its assertion, as in Athenz): a service created later under the same
 * name could be launched at once. Say so, and how to remove it.
 */
function LaunchRulesLeft({ domain, service, providers }: { domain: string; service: string; providers: ProviderConfig[] }) {
  if (providers.length === 0) return null;
  return (
    <div className="notice" data-testid="launch-rule-left">
      <p>
        The launch rule stays: {providers.length === 1 ? 'policy' : 'policies'} {providers.map((p, i) => (
          <Fragment key={p.template}>
            {i > 0 && ', '}
            <code>{p.template}</code>
          </Fragment>
        ))}{' '}
        still {providers.length === 1 ? 'lets' : 'let'} the provider launch <code>{domain}:service.{service}</code>, so a service created later under this name could be launched at once. Remove it afterwards on the Policies tab (Remove on the <code>launch</code> assertion), or:
      </p>
      {providers.map((p) => (
        <pre key={p.template}>{`zms-cli -d ${domain} delete-assertion ${p.template} grant launch to ${p.template} on ${domain}:service.${service}`}</pre>
      ))}
    </div>
  );
}

function KeysPanel({ service }: { service: ServiceIdentity }) {
  return (
    <div className="panel">
      <h3>Public keys of {serviceName(service.name)}</h3>
      {(service.publicKeys ?? []).map((k) => (
        <div key={k.id} className="key">
          <p>
            Key id <code>{k.id}</code>
          </p>
          <pre>{ybase64Decode(k.key)}</pre>
        </div>
      ))}
    </div>
  );
}
