/**
 * The Athenz ZMS data model as it travels in JSON (field names from ZMS.rdl).
 * Timestamps are ISO-8601 UTC strings with milliseconds.
 */

export type Effect = 'ALLOW' | 'DENY';

export interface RoleMember {
  memberName: string;
  expiration?: string;
  active?: boolean;
  approved?: boolean;
  auditRef?: string;
  /** Non-zero means disabled by the system. */
  systemDisabled?: number;
}

export interface Role {
  name: string; // <domain>:role.<role>
  modified?: string;
  roleMembers?: RoleMember[];
  trust?: string;
  description?: string;
  auditLog?: RoleAuditLog[];
}

export interface RoleAuditLog {
  member: string;
  admin: string;
  created: string;
  action: string;
  auditRef?: string;
}

export interface Assertion {
  role: string; // <domain>:role.<role>, glob allowed
  resource: string; // <domain>:<entity>, glob allowed
  action: string; // glob allowed
  effect?: Effect;
  id?: number;
  caseSensitive?: boolean;
}

export interface Policy {
  name: string; // <domain>:policy.<policy>
  modified?: string;
  assertions: Assertion[];
  caseSensitive?: boolean;
  version?: string;
  active?: boolean;
  description?: string;
}

export interface PublicKeyEntry {
  id: string;
  key: string; // YBase64 of the PEM
}

export interface ServiceIdentity {
  name: string; // <domain>.<service>
  description?: string;
  publicKeys?: PublicKeyEntry[];
  providerEndpoint?: string;
  modified?: string;
}

/** The DomainMeta fields Tessera keeps. */
export interface DomainMeta {
  description?: string;
  org?: string;
  enabled?: boolean;
  auditEnabled?: boolean;
  account?: string;
  awsAccountName?: string;
  ypmId?: number;
  productId?: string;
  applicationId?: string;
  certDnsDomain?: string;
  businessService?: string;
  memberExpiryDays?: number;
  serviceExpiryDays?: number;
  tokenExpiryMins?: number;
  serviceCertExpiryMins?: number;
  roleCertExpiryMins?: number;
  signAlgorithm?: string;
}

export interface Domain extends DomainMeta {
  name: string;
  id?: string;
  modified?: string;
}

/** Everything about one domain that access decisions need (what ZTS receives). */
export interface DomainData extends DomainMeta {
  name: string;
  modified: string;
  roles: Role[];
  policies: { contents: { domain: string; policies: Policy[] } };
  services: ServiceIdentity[];
  entities: unknown[];
  groups: unknown[];
}
