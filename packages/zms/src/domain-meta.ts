/**
 * Domain meta (`PUT /domain/{d}/meta`, domain admins) and system meta
 * (`PUT /domain/{d}/meta/system/{attribute}`, authorized in `sys.auth`),
 * including the AWS account(s) of the domain.
 */
import { badRequest, conflict, forbidden } from '@tessera/core/errors';
import type { DomainMeta } from '@tessera/core/model';
import { metaToColumns } from '@tessera/store/domain-rows';
import type { Actor, ZmsContext } from './context.ts';
import { SYSTEM_DOMAIN } from './config.ts';
import { writeDomain, type Trx } from './domain-write.ts';
import { accountSet, normalizeAwsAccounts, sameAccounts } from './aws-account.ts';
import { isAllowed } from './authorize.ts';
import { optBool, optNonNegativeInt, optString, type Body } from './body.ts';

/** The non-system fields of DomainMeta a domain admin may set. */
export function readDomainMeta(body: Body): DomainMeta {
  return {
    description: optString(body, 'description'),
    applicationId: optString(body, 'applicationId'),
    businessService: optString(body, 'businessService'),
    memberExpiryDays: optNonNegativeInt(body, 'memberExpiryDays'),
    serviceExpiryDays: optNonNegativeInt(body, 'serviceExpiryDays'),
    tokenExpiryMins: optNonNegativeInt(body, 'tokenExpiryMins'),
    serviceCertExpiryMins: optNonNegativeInt(body, 'serviceCertExpiryMins'),
    roleCertExpiryMins: optNonNegativeInt(body, 'roleCertExpiryMins'),
    signAlgorithm: readSignAlgorithm(body),
  };
}

function readSignAlgorithm(body: Body): string | undefined {
  const v = optString(body, 'signAlgorithm');
  if (v !== undefined && v !== 'rsa' && v !== 'ec') throw badRequest('signAlgorithm must be "rsa" or "ec"');
  return v;
}

export async function putDomainMeta(ctx: ZmsContext, actor: Actor, domain: string, body: Body): Promise<void> {
  const meta = readDomainMeta(body);
  await writeDomain(ctx, actor, { domain, api: 'putDomainMeta', kind: 'domain' }, async (trx) => {
    const columns = metaToColumns(meta);
    if (Object.keys(columns).length > 0) await trx.updateTable('domains').set(columns).where('name', '=', domain).execute();
    return { result: undefined, details: { meta: columns } };
  });
}

/** Which body fields each system attribute takes. */
const SYSTEM_ATTRIBUTES: Record<string, (body: Body) => DomainMeta> = {
  account: (b) => ({ account: normalizeAwsAccounts(optString(b, 'account') ?? ''), awsAccountName: optString(b, 'awsAccountName') }),
  productid: (b) => ({ ypmId: optNonNegativeInt(b, 'ypmId'), productId: optString(b, 'productId') }),
  org: (b) => ({ org: optString(b, 'org') ?? '' }),
  auditenabled: (b) => ({ auditEnabled: optBool(b, 'auditEnabled') ?? false }),
  enabled: (b) => ({ enabled: optBool(b, 'enabled') ?? true }),
  certdnsdomain: (b) => ({ certDnsDomain: optString(b, 'certDnsDomain') ?? '' }),
  businessservice: (b) => ({ businessService: optString(b, 'businessService') ?? '' }),
  modified: () => ({}),
};

/** The system attributes Tessera keeps (the authorization table checks the name first). */
export const SYSTEM_ATTRIBUTE_NAMES = Object.keys(SYSTEM_ATTRIBUTES);

/** The stored value an attribute replaces, for Athenz's "reset needs delete" rule. */
function storedValue(attribute: string, row: Record<string, unknown>): string {
  const column: Record<string, string> = {
    account: 'account',
    productid: 'product_id',
    org: 'org',
    certdnsdomain: 'cert_dns_domain',
    businessservice: 'business_service',
  };
  const c = column[attribute];
  return c && row[c] != null ? String(row[c]) : '';
}

export async function putDomainSystemMeta(
  ctx: ZmsContext,
  actor: Actor,
  domain: string,
  attribute: string,
  body: Body,
): Promise<void> {
  const api = 'putDomainSystemMeta';
  const read = SYSTEM_ATTRIBUTES[attribute];
  if (!read) {
    throw badRequest(`unknown system meta attribute: ${attribute} (known: ${Object.keys(SYSTEM_ATTRIBUTES).join(', ')})`);
  }
  const meta = read(body);
  // Who may update it: http/authorization.ts (domainSystemMeta). Replacing a set value also needs
  // delete on the attribute, which depends on the stored value: checked below, in the transaction.
  const resource = `${SYSTEM_DOMAIN}:meta.domain.${attribute}.${domain}`;

  await writeDomain(ctx, actor, { domain, api, kind: 'domain' }, async (trx) => {
    const row = await trx.selectFrom('domains').selectAll().where('name', '=', domain).executeTakeFirstOrThrow();
    const columns = metaToColumns(meta);
    if (attribute === 'account') {
      columns.account = meta.account || null;
      // Clearing the account clears its name; an empty name keeps the stored one.
      if (!meta.account) columns.aws_account_name = null;
    }
    const current = storedValue(attribute, row);
    const next = storedValue(attribute, { ...row, ...columns });
    const changed = attribute === 'account' ? !sameAccounts(current, next) : current !== next;
    if (current !== '' && changed && !isAllowed(ctx, actor.principal, 'delete', resource)) {
      throw forbidden(`${api}: unauthorized to reset system meta attribute: ${attribute} (needs delete on ${resource})`);
    }
    if (attribute === 'account' && meta.account) await assertAccountsUnused(ctx, trx, domain, meta.account);
    if (Object.keys(columns).length > 0) await trx.updateTable('domains').set(columns).where('name', '=', domain).execute();
    return { result: undefined, details: { attribute, ...columns } };
  });
}

/** Each AWS account belongs to one domain (unless configured otherwise). */
export async function assertAccountsUnused(ctx: ZmsContext, trx: Trx, domain: string, accounts: string): Promise<void> {
  if (!ctx.config.enforceUniqueAwsAccounts) return;
  const wanted = accountSet(accounts);
  const others = await trx
    .selectFrom('domains')
    .select(['name', 'account'])
    .where('account', 'is not', null)
    .where('name', '!=', domain)
    .execute();
  for (const other of others) {
    for (const id of accountSet(other.account)) {
      if (wanted.has(id)) throw conflict(`Account Id: ${id} is already assigned to domain: ${other.name}`);
    }
  }
}
