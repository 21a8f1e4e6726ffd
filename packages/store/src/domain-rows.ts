/** Conversions between domain rows and the ZMS Domain JSON object. */
import type { Domain, DomainMeta } from '@tessera/core/model';
import type { DomainsTable } from './schema.ts';

type MetaColumns = Omit<DomainsTable, 'name' | 'id' | 'created' | 'modified'>;

/** Drops null/undefined fields so JSON output carries only what is set. */
function compact<T extends object>(o: T): T {
  // A plain loop: this runs for every domain a snapshot loads (100k at a start).
  const out: Record<string, unknown> = {};
  for (const k in o) {
    const v = o[k];
    if (v !== null && v !== undefined) out[k] = v;
  }
  return out as T;
}

export function domainFromRow(row: DomainsTable): Domain {
  return compact({
    name: row.name,
    id: row.id,
    modified: row.modified,
    description: row.description,
    org: row.org,
    enabled: row.enabled === 1,
    auditEnabled: row.audit_enabled === 1,
    account: row.account,
    awsAccountName: row.aws_account_name,
    ypmId: row.ypm_id,
    productId: row.product_id,
    applicationId: row.application_id,
    certDnsDomain: row.cert_dns_domain,
    businessService: row.business_service,
    memberExpiryDays: row.member_expiry_days,
    serviceExpiryDays: row.service_expiry_days,
    tokenExpiryMins: row.token_expiry_mins,
    serviceCertExpiryMins: row.service_cert_expiry_mins,
    roleCertExpiryMins: row.role_cert_expiry_mins,
    signAlgorithm: row.sign_algorithm,
  } as Domain);
}

/** Only the fields present in `meta` become columns; the rest stay as they are. */
export function metaToColumns(meta: DomainMeta): Partial<MetaColumns> {
  const map: Partial<MetaColumns> = {
    description: meta.description,
    org: meta.org,
    enabled: meta.enabled === undefined ? undefined : meta.enabled ? 1 : 0,
    audit_enabled: meta.auditEnabled === undefined ? undefined : meta.auditEnabled ? 1 : 0,
    account: meta.account,
    aws_account_name: meta.awsAccountName,
    ypm_id: meta.ypmId,
    product_id: meta.productId,
    application_id: meta.applicationId,
    cert_dns_domain: meta.certDnsDomain,
    business_service: meta.businessService,
    member_expiry_days: meta.memberExpiryDays,
    service_expiry_days: meta.serviceExpiryDays,
    token_expiry_mins: meta.tokenExpiryMins,
    service_cert_expiry_mins: meta.serviceCertExpiryMins,
    role_cert_expiry_mins: meta.roleCertExpiryMins,
    sign_algorithm: meta.signAlgorithm,
  };
  return Object.fromEntries(Object.entries(map).filter(([, v]) => v !== undefined)) as Partial<MetaColumns>;
}
