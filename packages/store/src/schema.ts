/**
 * The Kysely view of Tessera's tables. One schema for SQLite and PostgreSQL:
 * timestamps are ISO-8601 strings (sortable, millisecond precision on both),
 * booleans are 0/1 integers.
 */
import type { Generated } from 'kysely';

export interface DomainsTable {
  name: string;
  id: string;
  description: string | null;
  org: string | null;
  enabled: number;
  audit_enabled: number;
  account: string | null;
  aws_account_name: string | null;
  ypm_id: number | null;
  product_id: string | null;
  application_id: string | null;
  cert_dns_domain: string | null;
  business_service: string | null;
  member_expiry_days: number | null;
  service_expiry_days: number | null;
  token_expiry_mins: number | null;
  service_cert_expiry_mins: number | null;
  role_cert_expiry_mins: number | null;
  sign_algorithm: string | null;
  created: string;
  modified: string;
}

export interface RolesTable {
  domain: string;
  name: string;
  trust: string | null;
  description: string | null;
  modified: string;
}

export interface RoleMembersTable {
  domain: string;
  role: string;
  member_name: string;
  expiration: string | null;
  system_disabled: number;
  audit_ref: string | null;
}

export interface PoliciesTable {
  domain: string;
  name: string;
  description: string | null;
  case_sensitive: number;
  modified: string;
}

export interface AssertionsTable {
  id: Generated<number>;
  domain: string;
  policy: string;
  role: string;
  resource: string;
  action: string;
  effect: string;
  case_sensitive: number;
}

export interface ServicesTable {
  domain: string;
  name: string;
  description: string | null;
  provider_endpoint: string | null;
  modified: string;
}

export interface PublicKeysTable {
  domain: string;
  service: string;
  key_id: string;
  key: string;
}

export interface DomainTemplatesTable {
  domain: string;
  template: string;
  version: number;
}

export interface AuditLogTable {
  id: Generated<number>;
  domain: string;
  created: string;
  principal: string;
  api: string;
  /** What changed, as a JSON string. */
  details: string;
  audit_ref: string | null;
}

export interface UsersTable {
  name: string;
  password_hash: string;
  created: string;
  modified: string;
  /** Tokens issued before this time (a password change) are no longer accepted. */
  tokens_not_before: string | null;
}

/** Ids of user tokens revoked before they expire (logged-out sessions). */
export interface RevokedTokensTable {
  id: string;
  expires: string;
}

/** Failed sign-ins per key (`user:<principal>` or `ip:<address>`) and the back-off they earned. */
export interface SignInFailuresTable {
  key: string;
  failures: number;
  last_failure: string;
  blocked_until: string | null;
}

export interface CertRecordsTable {
  provider: string;
  instance_id: string;
  /** `<domain>.<service>` */
  service: string;
  current_serial: string;
  current_ip: string;
  current_time: string;
  prev_serial: string;
  prev_ip: string;
  prev_time: string;
  expiry_time: string;
  /** When the instance first registered (kept across refreshes). */
  issued_time: string;
  hostname: string | null;
  client_cert: number;
  sia_provider: string | null;
  /** Who the provider verified at the last register (e.g. the STS caller ARN); 004-instance-events. */
  attested_identity?: string | null;
  /** The last takeover: a register that replaced a live record from another address or identity. */
  takeover_time?: string | null;
  takeover_prev_ip?: string | null;
  takeover_detail?: string | null;
}

/** The most recent refused register or refresh of a service (004-instance-events). */
export interface ServiceRefusalsTable {
  /** `<domain>.<service>` */
  service: string;
  domain: string;
  time: string;
  /** Only a registered provider; '' when the request named another. */
  provider: string;
  /** Stable code of what was refused (see core/explained.ts). */
  reason: string;
  /** The refusal with every caller-sent value quoted, cut and marked as claimed. */
  message: string;
  /** JSON `{"facts": {...}, "claims": {...}}`. */
  details: string;
  client_ip: string;
}

export interface RevokedCertificatesTable {
  /** Lower-case hex. */
  serial: string;
  /** `<domain>.<service>` the certificate was issued to. */
  service: string;
  revoked_time: string;
  /** An RFC 5280 reason name: keyCompromise, cessationOfOperation, ... */
  reason: string;
  /** When the certificate expires; the entry can be dropped after. */
  expiry_time: string;
}

/**
 * Written by a trigger on every insert, update and delete of a domain row
 * (migration 007); read by the snapshot poller. PostgreSQL also has `xid`, the
 * writing transaction's id (xid8), read with raw SQL.
 */
export interface DomainChangesTable {
  seq: Generated<number>;
  name: string;
  at: Generated<string>;
}

export interface Database {
  domains: DomainsTable;
  roles: RolesTable;
  role_members: RoleMembersTable;
  policies: PoliciesTable;
  assertions: AssertionsTable;
  services: ServicesTable;
  public_keys: PublicKeysTable;
  domain_templates: DomainTemplatesTable;
  audit_log: AuditLogTable;
  users: UsersTable;
  cert_records: CertRecordsTable;
  revoked_tokens: RevokedTokensTable;
  sign_in_failures: SignInFailuresTable;
  revoked_certificates: RevokedCertificatesTable;
  service_refusals: ServiceRefusalsTable;
  domain_changes: DomainChangesTable;
}
