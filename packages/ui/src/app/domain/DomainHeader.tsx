/** The domain's name and metadata: description, modified, AWS account(s), audit, product id, organization. */
import { domainAccounts, type Domain } from '../zms-client.ts';
import { Time } from '../components/Time.tsx';

export function DomainHeader({ domain }: { domain: Domain }) {
  const accounts = domainAccounts(domain);
  const na = <span className="muted">not set</span>;
  return (
    <header className="domain-header">
      <p className="eyebrow">Domain</p>
      <h1>{domain.name}</h1>
      {domain.description && <p className="description">{domain.description}</p>}
      <dl className="meta" aria-label="Domain details">
        <div>
          <dt>Modified</dt>
          <dd>
            <Time value={domain.modified} />
          </dd>
        </div>
        <div>
          <dt>AWS account{accounts.length > 1 ? 's' : ''}</dt>
          <dd>{accounts.length > 0 ? accounts.map((a) => <code key={a}>{a}</code>) : na}</dd>
        </div>
        <div>
          <dt>Audit</dt>
          <dd>{domain.auditEnabled ? <span className="badge warn">enabled</span> : 'disabled'}</dd>
        </div>
        <div>
          <dt>Product id</dt>
          <dd>{domain.productId ?? na}</dd>
        </div>
        <div>
          <dt>Organization</dt>
          <dd>{domain.org ?? na}</dd>
        </div>
      </dl>
    </header>
  );
}
