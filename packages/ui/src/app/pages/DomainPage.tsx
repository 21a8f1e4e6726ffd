/**
 * A domain: the header with its metadata, then the tabs Roles, Services,
 * Policies and History. Every change made in a tab reloads the header too,
 * so "modified" is never stale.
 */
import { useCallback, useState } from 'react';
import { useApp } from '../app-context.tsx';
import { LoadFailure, Loading } from '../components/Loading.tsx';
import { Tabs } from '../components/Tabs.tsx';
import { DomainHeader } from '../domain/DomainHeader.tsx';
import { HistoryTab } from '../domain/HistoryTab.tsx';
import { PoliciesTab } from '../domain/PoliciesTab.tsx';
import { RolesTab } from '../domain/RolesTab.tsx';
import { ServicesTab } from '../domain/ServicesTab.tsx';
import { Link, paths, type DomainTab } from '../router.tsx';
import { useLoad } from '../use-load.ts';
import { useTitle } from '../use-title.ts';
import { zms } from '../zms-client.ts';

const TAB_LABELS: Record<DomainTab, string> = { roles: 'Roles', services: 'Services', policies: 'Policies', history: 'History' };

export function DomainPage({ domain, tab }: { domain: string; tab: DomainTab }) {
  const { api } = useApp();
  useTitle(domain, TAB_LABELS[tab]);
  const header = useLoad(() => zms.domain(api, domain), [domain]);
  // Bumped after each change so the History tab (and the header) show it.
  const [changes, setChanges] = useState(0);
  const reloadHeader = header.reload;
  const changed = useCallback(() => {
    setChanges((n) => n + 1);
    void reloadHeader();
  }, [reloadHeader]);

  if (header.error) {
    return (
      <>
        <h1>{domain}</h1>
        <LoadFailure loaded={header} failure={`Could not open domain ${domain}`} />
        <p>
          <Link to={paths.home()}>Back to your domains</Link>
        </p>
      </>
    );
  }
  if (!header.data) return <Loading what={`domain ${domain}`} />;
  const d = header.data;
  return (
    <>
      <DomainHeader domain={d} />
      <Tabs
        label={`Domain ${domain}`}
        tabs={(Object.keys(TAB_LABELS) as DomainTab[]).map((t) => ({ id: t, label: TAB_LABELS[t], href: paths.domain(domain, t) }))}
        selected={tab}
      >
        {tab === 'roles' && <RolesTab domain={d} onChanged={changed} />}
        {tab === 'services' && <ServicesTab domain={d} onChanged={changed} />}
        {tab === 'policies' && <PoliciesTab domain={d} onChanged={changed} />}
        {tab === 'history' && <HistoryTab domain={d} changes={changes} />}
      </Tabs>
    </>
  );
}
