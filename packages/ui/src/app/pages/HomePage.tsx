/**
 * Home: the domains I am a member of, and a search over domains (by name
 * prefix, on the server) and services (service names in matching domains).
 */
import { useState, type FormEvent } from 'react';
import type { Api } from '../api.ts';
import { useApp } from '../app-context.tsx';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { TextField } from '../components/Field.tsx';
import { LoadStatus } from '../components/Loading.tsx';
import { Link, paths } from '../router.tsx';
import { toApiError, useAction, useLoad } from '../use-load.ts';
import { useTitle } from '../use-title.ts';
import { useValidation } from '../use-validation.ts';
import { zms } from '../zms-client.ts';

type SearchKind = 'domains' | 'services';
interface SearchResult {
  kind: SearchKind;
  term: string;
  domains: string[];
  services: { domain: string; service: string }[];
}

const SEARCH_LIMIT = 50;

/** Domains Athenz and Tessera keep for themselves (sys.auth, user, athenz, athenz.aws…): shown apart from the user's own. */
function isSystemDomain(d: string): boolean {
  return ['sys', 'athenz'].some((root) => d === root || d.startsWith(`${root}.`)) || d === 'user' || d === 'home';
}
/** Service search reads the service list of each candidate domain: bounded, so one search stays a few requests. */
const SERVICE_SEARCH_DOMAINS = 25;

export function HomePage() {
  useTitle('Domains');
  const { api, session } = useApp();
  const mine = useLoad(() => zms.domainNames(api, { member: session.principal }), [session.principal]);
  const [term, setTerm] = useState('');
  const [kind, setKind] = useState<SearchKind>('domains');
  const [result, setResult] = useState<SearchResult>();
  const { busy, error, run } = useAction();
  const v = useValidation<'term'>();

  const search = async (e: FormEvent) => {
    e.preventDefault();
    if (!v.check({ term: term.trim() ? undefined : 'Type part of a name to search for.' })) return;
    const t = term.trim().toLowerCase();
    await run(async () => {
      setResult(kind === 'domains' ? { kind, term: t, domains: await zms.domainNames(api, { prefix: t, limit: String(SEARCH_LIMIT) }), services: [] } : await searchServices(api, t, mine.data ?? []));
    });
  };

  return (
    <>
      <div className="page-head">
        <h1>Domains</h1>
        <Link to={paths.createDomain()} className="button primary">
          Create domain
        </Link>
      </div>

      <section className="card" aria-labelledby="search-title">
        <h2 id="search-title">Search</h2>
        <form className="inline-form" onSubmit={search} role="search" noValidate ref={v.formRef}>
          <div className="grow">
            <TextField label="Name" error={v.errors.term} value={term} onChange={(e) => setTerm(e.target.value)} placeholder={kind === 'domains' ? 'Domain name prefix, e.g. sports' : 'Service name, or domain.service'} />
          </div>
          <div className="field">
            <label htmlFor="search-kind">Look for</label>
            <select id="search-kind" value={kind} onChange={(e) => setKind(e.target.value as SearchKind)}>
              <option value="domains">Domains</option>
              <option value="services">Services</option>
            </select>
          </div>
          <button type="submit" className="button" disabled={busy}>
            {busy ? 'Searching…' : 'Search'}
          </button>
        </form>
        <ErrorMessage error={error} />
        {result && <SearchResults result={result} />}
      </section>

      <section className="card" aria-labelledby="mine-title">
        <h2 id="mine-title">My domains</h2>
        <p className="muted">Domains where you are a member of at least one role.</p>
        <LoadStatus loaded={mine} what="your domains" failure="Could not list your domains" />
        {mine.data && mine.data.length === 0 && (
          <p>
            You are not a member of any domain yet. <Link to={paths.createDomain()}>Create one</Link>, or ask a domain administrator to add you to a role.
          </p>
        )}
        {mine.data && mine.data.some((d) => !isSystemDomain(d)) && <DomainList label="My domains" domains={mine.data.filter((d) => !isSystemDomain(d))} />}
        {mine.data && mine.data.length > 0 && mine.data.every(isSystemDomain) && (
          <p>
            Only system domains so far. <Link to={paths.createDomain()}>Create a domain</Link> for your services.
          </p>
        )}
        {mine.data && mine.data.some(isSystemDomain) && (
          <details className="system-domains">
            <summary>System domains ({mine.data.filter(isSystemDomain).length})</summary>
            <p className="muted">Kept by the server itself (system administrators, users, the AWS providers): change them only if you know why.</p>
            <DomainList label="System domains" domains={mine.data.filter(isSystemDomain)} />
          </details>
        )}
      </section>
    </>
  );
}

function DomainList({ label, domains }: { label: string; domains: string[] }) {
  return (
    <ul className="domain-list" aria-label={label}>
      {domains.map((d) => (
        <li key={d}>
          <Link to={paths.domain(d, 'services')}>{d}</Link>
        </li>
      ))}
    </ul>
  );
}

function SearchResults({ result }: { result: SearchResult }) {
  const count = result.kind === 'domains' ? result.domains.length : result.services.length;
  return (
    <div className="search-results" role="region" aria-label="Search results" aria-live="polite">
      <p className="muted">
        {count === 0 ? `No ${result.kind} match “${result.term}”.` : `${count} ${result.kind === 'domains' ? 'domain' : 'service'}${count === 1 ? ' matches' : 's match'} “${result.term}”${count >= SEARCH_LIMIT ? ' (first ' + SEARCH_LIMIT + ' shown)' : ''}.`}
      </p>
      <ul className="domain-list">
        {result.domains.map((d) => (
          <li key={d}>
            <Link to={paths.domain(d, 'services')}>{d}</Link>
          </li>
        ))}
        {result.services.map(({ domain, service }) => (
          <li key={`${domain}.${service}`}>
            <Link to={paths.domain(domain, 'services')}>
              {domain}.<strong>{service}</strong>
            </Link>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * "api": services whose name contains "api" in my domains, and every service of
 * domains whose name starts with "api"; "sports.api": services starting with
 * "api" in domain "sports".
 */
async function searchServices(api: Api, term: string, myDomains: string[]): Promise<SearchResult> {
  const dot = term.lastIndexOf('.');
  const [domains, servicePart] =
    dot > 0
      ? [[term.slice(0, dot)], term.slice(dot + 1)]
      : [[...new Set([...myDomains, ...(await zms.domainNames(api, { prefix: term, limit: String(SERVICE_SEARCH_DOMAINS) }))])].slice(0, SERVICE_SEARCH_DOMAINS), term];
  const services: { domain: string; service: string }[] = [];
  for (const domain of domains) {
    let names: string[];
    try {
      names = await zms.serviceNames(api, domain);
    } catch (e) {
      // A domain named in "domain.service" that does not exist is simply no match.
      if (toApiError(e).status === 404) continue;
      throw e;
    }
    for (const service of names) {
      if (dot > 0 ? service.startsWith(servicePart) : service.includes(servicePart) || domain.startsWith(term)) services.push({ domain, service });
    }
  }
  return { kind: 'services', term, domains: [], services: services.slice(0, SEARCH_LIMIT) };
}
