/**
 * The identity providers that may launch a service. Status is asked of ZMS
 * (GET /access/launch) every time the panel opens and again right after
 * Allow — never cached — so the check mark is the truth, also after reload.
 */
import { useEffect, useState } from 'react';
import type { ApiError } from '../api.ts';
import { useApp } from '../app-context.tsx';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import type { ProviderConfig } from '../providers.ts';
import { toApiError } from '../use-load.ts';
import { zms } from '../zms-client.ts';
import { NextSteps } from './NextSteps.tsx';

type Status = { state: 'checking' } | { state: 'allowed' } | { state: 'not-allowed'; error?: ApiError | string } | { state: 'allowing' } | { state: 'unknown'; error: ApiError };

interface ProvidersPanelProps {
  domain: string;
  /** The domain's AWS accounts, for the trust policies of Next steps. */
  accounts: string[];
  service: string;
  onChanged(): void;
  /** After Allow, once ZMS confirms the provider may launch the service. */
  onAllowed(p: ProviderConfig): void;
}

export function ProvidersPanel({ domain, accounts, service, onChanged, onAllowed }: ProvidersPanelProps) {
  const { api, providers } = useApp();
  const [status, setStatus] = useState<Record<string, Status>>({});
  // Bumped after a successful Allow: Next steps takes the focus.
  const [allowedNow, setAllowedNow] = useState(0);
  const set = (p: ProviderConfig, s: Status) => setStatus((prev) => ({ ...prev, [p.template]: s }));
  const granted = (p: ProviderConfig) => zms.mayLaunch(api, domain, service, p.principal);

  const check = async (p: ProviderConfig) => {
    set(p, { state: 'checking' });
    try {
      set(p, (await granted(p)) ? { state: 'allowed' } : { state: 'not-allowed' });
    } catch (e) {
      set(p, { state: 'unknown', error: toApiError(e) });
    }
  };

  useEffect(() => {
    for (const p of providers) void check(p);
    // Checked again whenever the panel opens for another service or the list changes.
  }, [domain, service, providers]);

  const allow = async (p: ProviderConfig) => {
    set(p, { state: 'allowing' });
    try {
      await zms.applyTemplate(api, domain, p.template, { service });
      onChanged();
    } catch (e) {
      set(p, { state: 'not-allowed', error: toApiError(e) });
      return;
    }
    try {
      // Confirm with ZMS instead of assuming: a template that grants another principal must not show a check mark.
      if (await granted(p)) {
        set(p, { state: 'allowed' });
        setAllowedNow((n) => n + 1);
        onAllowed(p);
      } else {
        set(p, { state: 'not-allowed', error: `Template ${p.template} was applied, but ZMS still does not let ${p.principal} launch ${domain}.${service}: the provider list names a principal the template's role does not match.` });
      }
    } catch (e) {
      set(p, { state: 'unknown', error: toApiError(e) });
    }
  };

  return (
    <div className="panel">
      <h3>Identity providers for {service}</h3>
      <div className="table-wrap">
        <table className="table providers stack" aria-label={`Identity providers for ${service}`}>
          <thead>
            <tr>
              <th scope="col">Provider</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {providers.map((p) => {
              const s = status[p.template] ?? { state: 'checking' };
              return (
                <tr key={p.template} data-provider={p.template}>
                  <th scope="row" data-label="Provider">
                    {p.label}
                    <span className="sub">
                      <code>{p.principal}</code> · template <code>{p.template}</code>
                    </span>
                  </th>
                  <td className="status" data-label="Status">
                    {s.state === 'checking' && <span className="muted">Checking…</span>}
                    {s.state === 'allowed' && (
                      <span className="allowed" role="img" aria-label={`Allowed: ${p.principal} may launch ${service}`} title="Allowed">
                        <span aria-hidden="true">✓</span> Allowed
                      </span>
                    )}
                    {(s.state === 'not-allowed' || s.state === 'allowing') && (
                      <button type="button" className="button small primary" disabled={s.state === 'allowing'} onClick={() => void allow(p)} aria-label={`Allow ${p.label}`}>
                        {s.state === 'allowing' ? 'Allowing…' : 'Allow'}
                      </button>
                    )}
                    {s.state === 'unknown' && (
                      <button type="button" className="button small" onClick={() => void check(p)}>
                        Check again
                      </button>
                    )}
                    {(s.state === 'not-allowed' || s.state === 'unknown') && s.error && <ErrorMessage error={s.error} prefix={s.state === 'unknown' ? 'Could not check' : undefined} />}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <NextSteps domain={domain} accounts={accounts} service={service} allowed={providers.filter((p) => status[p.template]?.state === 'allowed')} focusRequest={allowedNow} />
    </div>
  );
}
