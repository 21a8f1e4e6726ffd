/**
 * Typed ZMS calls used by the pages (paths and bodies as in docs/zms-api.md).
 * Every write that ZMS can audit passes the optional audit reference along.
 */
import type { Assertion, Domain, Policy, Role, ServiceIdentity } from '@tessera/core/model';
import { seg, type Api } from './api.ts';

export type { Assertion, Domain, Policy, Role, ServiceIdentity };

export interface Session {
  principal: string;
  systemAdmin: boolean;
}

export interface HistoryEntry {
  id: number;
  created: string;
  principal: string;
  api: string;
  details: unknown;
  auditRef?: string;
}

export interface Instance {
  instanceId: string;
  provider: string;
  issued: string;
  lastRefresh: string;
  expires: string;
  clientIp: string;
  /** What the agent said it runs on: the SIA-<platform> of its User-Agent (FARGATE, EKS, AWS for EC2…), as Athenz records it. */
  platform?: string;
  /** The host name the agent sent at registration. */
  hostname?: string;
  revoked: boolean;
  /** Present when this record replaced a live record of the same instance id from another address or attestation. */
  takeover?: { time: string; previousIp: string; currentIp: string; detail: string };
}

/** A service's readiness from ZTS's records (GET /domain/{d}/service-status). */
export interface ServiceStatus {
  name: string;
  instances: number;
  lastIssued?: string;
  /**
   * The most recent refused registration or refresh: `message` is ZTS's text with every value
   * the caller only claimed quoted, cut and marked; `provider` is '' when it was not a registered one.
   */
  lastFailure?: { time: string; provider: string; reason?: string; message: string; clientIp: string };
}

const audit = (auditRef?: string): Record<string, string> => (auditRef ? { 'y-audit-ref': auditRef } : {});

/** The part after `<domain>:role.` / `<domain>:policy.` */
export const entityName = (full: string): string => full.slice(full.indexOf('.', full.indexOf(':')) + 1);
/** The domain's AWS account ids (ZMS keeps them comma-separated in `account`). */
export const domainAccounts = (domain: Domain): string[] => (domain.account ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
/** The part after `<domain>.` */
export const serviceName = (full: string): string => full.slice(full.lastIndexOf('.') + 1);

export const zms = {
  login: (api: Api, user: string, password: string) =>
    api.send<Session & { csrfToken: string; expires: string }>('POST', '/session', { user, password }, { ownUnauthorized: true }),
  logout: (api: Api) => api.send('DELETE', '/session'),
  /** Who is logged in (Tessera's GET /session; Athenz's GET /principal is the ServicePrincipal). */
  session: (api: Api) => api.get<Session>('/session'),

  domainNames: async (api: Api, query: Record<string, string>) =>
    (await api.get<{ names: string[] }>(`/domain?${new URLSearchParams(query).toString()}`)).names,
  domain: (api: Api, d: string) => api.get<Domain>(`/domain/${seg(d)}`),
  createTopLevel: (api: Api, body: { name: string; adminUsers: string[]; description?: string; account?: string; productId?: string }) =>
    api.send<Domain>('POST', '/domain', body),
  createSubDomain: (api: Api, parent: string, body: { name: string; adminUsers: string[]; description?: string }) =>
    api.send<Domain>('POST', `/subdomain/${seg(parent)}`, { parent, ...body }),
  createUserDomain: (api: Api, leaf: string) => api.send<Domain>('POST', `/userdomain/${seg(leaf)}`, { name: leaf }),
  history: async (api: Api, d: string, limit = 100) =>
    (await api.get<{ entries: HistoryEntry[] }>(`/domain/${seg(d)}/history?limit=${limit}`)).entries,

  services: async (api: Api, d: string) => (await api.get<{ list: ServiceIdentity[] }>(`/domain/${seg(d)}/services`)).list,
  serviceNames: async (api: Api, d: string) => (await api.get<{ names: string[] }>(`/domain/${seg(d)}/service`)).names,
  putService: (api: Api, d: string, s: string, body: ServiceIdentity) =>
    api.send<ServiceIdentity>('PUT', `/domain/${seg(d)}/service/${seg(s)}`, body, { headers: { 'athenz-return-object': 'true' } }),
  deleteService: (api: Api, d: string, s: string) => api.send('DELETE', `/domain/${seg(d)}/service/${seg(s)}`),
  instances: async (api: Api, d: string, s: string) =>
    (await api.get<{ instances: Instance[] }>(`/domain/${seg(d)}/service/${seg(s)}/instances`)).instances,
  serviceStatus: async (api: Api, d: string) => (await api.get<{ services: ServiceStatus[] }>(`/domain/${seg(d)}/service-status`)).services,
  revokeInstance: (api: Api, d: string, s: string, provider: string, id: string) =>
    api.send('DELETE', `/domain/${seg(d)}/service/${seg(s)}/instance/${seg(provider)}/${seg(id)}`),

  /** Whether `principal` may `action` the resource, asked of ZMS each time (no cache: it is the truth). */
  access: async (api: Api, action: string, resource: string, domain: string, principal: string) =>
    (
      await api.get<{ granted: boolean }>(
        `/access/${seg(action)}?${new URLSearchParams({ resource, domain, principal }).toString()}`,
      )
    ).granted,
  /** Whether the provider service `principal` may launch `<d>.<service>` (what ZTS checks before issuing). */
  mayLaunch: (api: Api, d: string, service: string, principal: string) => zms.access(api, 'launch', `${d}:service.${service}`, d, principal),
  applyTemplate: (api: Api, d: string, template: string, params: Record<string, string>) =>
    api.send('PUT', `/domain/${seg(d)}/template`, {
      templateNames: [template],
      params: Object.entries(params).map(([name, value]) => ({ name, value })),
    }),

  roles: async (api: Api, d: string) => (await api.get<{ list: Role[] }>(`/domain/${seg(d)}/roles`)).list,
  putRole: (api: Api, d: string, r: string, members: { memberName: string; expiration?: string }[], auditRef?: string) =>
    api.send('PUT', `/domain/${seg(d)}/role/${seg(r)}`, { name: `${d}:role.${r}`, roleMembers: members }, { headers: audit(auditRef) }),
  deleteRole: (api: Api, d: string, r: string, auditRef?: string) =>
    api.send('DELETE', `/domain/${seg(d)}/role/${seg(r)}`, undefined, { headers: audit(auditRef) }),
  putMember: (api: Api, d: string, r: string, member: string, expiration?: string, auditRef?: string) =>
    api.send('PUT', `/domain/${seg(d)}/role/${seg(r)}/member/${seg(member)}`, { memberName: member, ...(expiration ? { expiration } : {}) }, { headers: audit(auditRef) }),
  deleteMember: (api: Api, d: string, r: string, member: string, auditRef?: string) =>
    api.send('DELETE', `/domain/${seg(d)}/role/${seg(r)}/member/${seg(member)}`, undefined, { headers: audit(auditRef) }),

  policies: async (api: Api, d: string) => (await api.get<{ list: Policy[] }>(`/domain/${seg(d)}/policies`)).list,
  putPolicy: (api: Api, d: string, p: string, assertions: Assertion[], auditRef?: string) =>
    api.send('PUT', `/domain/${seg(d)}/policy/${seg(p)}`, { name: `${d}:policy.${p}`, assertions }, { headers: audit(auditRef) }),
  deletePolicy: (api: Api, d: string, p: string, auditRef?: string) =>
    api.send('DELETE', `/domain/${seg(d)}/policy/${seg(p)}`, undefined, { headers: audit(auditRef) }),
  putAssertion: (api: Api, d: string, p: string, a: Assertion, auditRef?: string) =>
    api.send<Assertion>('PUT', `/domain/${seg(d)}/policy/${seg(p)}/assertion`, a, { headers: audit(auditRef) }),
  deleteAssertion: (api: Api, d: string, p: string, id: number, auditRef?: string) =>
    api.send('DELETE', `/domain/${seg(d)}/policy/${seg(p)}/assertion/${id}`, undefined, { headers: audit(auditRef) }),
};
