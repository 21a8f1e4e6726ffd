/**
 * IAM's OIDC identity providers (Create/Get/List/DeleteOpenIDConnectProvider)
 * and outbound web identity federation (Enable/Disable/GetOutbound…Info), the
 * per-account switch behind STS GetWebIdentityToken.
 */
import { awsTimestamp, type Clock } from './clock.ts';
import { AwsError, noSuchEntity, validationError } from './aws-error.ts';
import { oidcProviderArn } from './arn.ts';
import { newUuid } from './ids.ts';
import type { OidcIssuers } from './oidc-issuers.ts';
import type { QueryParams, XmlShape } from './query-protocol.ts';
import type { OidcProviderRecord, SimState } from './state.ts';

export const OIDC_PROVIDER_ACTIONS = ['CreateOpenIDConnectProvider', 'GetOpenIDConnectProvider', 'ListOpenIDConnectProviders', 'DeleteOpenIDConnectProvider'];
export const FEDERATION_ACTIONS = ['EnableOutboundWebIdentityFederation', 'DisableOutboundWebIdentityFederation', 'GetOutboundWebIdentityFederationInfo'];
/** What a role session may call: reading which issuers the account trusts (as a reader role with iam:List/Get). */
export const READ_ONLY_IAM_ACTIONS = new Set(['GetOpenIDConnectProvider', 'ListOpenIDConnectProviders', 'GetOutboundWebIdentityFederationInfo']);

export interface IamOidcDeps {
  state: SimState;
  clock: Clock;
  persist(): void;
  issuers: OidcIssuers;
}

const ISSUER_URL = /^https:\/\/[a-z0-9.-]+(:\d+)?(\/[\x21-\x7e]*)?$/i;

function providerByArn(deps: IamOidcDeps, account: string, arn: string): OidcProviderRecord {
  const p = Object.values(deps.state.oidcProviders).find((r) => r.account === account && r.arn === arn);
  if (!p) throw noSuchEntity(`OpenIDConnect Provider not found for arn ${arn}`);
  return p;
}

function list(params: QueryParams, name: string): string[] {
  return params.members(name).map((m) => m[''] ?? '');
}

export function iamOidcAction(action: string, params: QueryParams, account: string, deps: IamOidcDeps): Record<string, XmlShape> | undefined {
  switch (action) {
    case 'CreateOpenIDConnectProvider': {
      const url = params.require('Url');
      if (!ISSUER_URL.test(url) || url.length > 255) throw validationError(`Invalid Url '${url}': an https:// issuer URL of at most 255 characters`);
      const hostPath = url.slice('https://'.length).replace(/\/$/, '');
      const clientIds = list(params, 'ClientIDList');
      if (clientIds.some((c) => c.length < 1 || c.length > 255)) throw validationError('Each client id must be 1-255 characters.');
      const id = `${account}/${hostPath}`;
      if (deps.state.oidcProviders[id]) {
        throw new AwsError('EntityAlreadyExists', `Provider with url ${url} already exists.`, 409);
      }
      const record: OidcProviderRecord = { account, url: hostPath, arn: oidcProviderArn(account, hostPath), clientIds, createDate: awsTimestamp(deps.clock()) };
      deps.state.oidcProviders[id] = record;
      deps.persist();
      return { OpenIDConnectProviderArn: record.arn };
    }
    case 'GetOpenIDConnectProvider': {
      const p = providerByArn(deps, account, params.require('OpenIDConnectProviderArn'));
      return { Url: p.url, ClientIDList: p.clientIds, ThumbprintList: [], CreateDate: p.createDate };
    }
    case 'ListOpenIDConnectProviders':
      return {
        OpenIDConnectProviderList: Object.values(deps.state.oidcProviders)
          .filter((p) => p.account === account)
          .map((p) => ({ Arn: p.arn })),
      };
    case 'DeleteOpenIDConnectProvider': {
      const p = providerByArn(deps, account, params.require('OpenIDConnectProviderArn'));
      delete deps.state.oidcProviders[`${account}/${p.url}`];
      deps.persist();
      return undefined;
    }
    case 'EnableOutboundWebIdentityFederation': {
      const f = deps.state.outboundFederation[account];
      if (f?.enabled) throw new AwsError('FeatureEnabled', 'Outbound web identity federation is already enabled for this account.', 409);
      // The issuer stays the same across disable/enable, as AWS's per-account issuer does.
      const issuer = f?.issuer ?? `https://${newUuid()}.tokens.sts.global.api.aws`;
      deps.state.outboundFederation[account] = { issuer, enabled: true };
      deps.issuers.ensure(issuer, ['RS256', 'ES384']);
      deps.persist();
      return { IssuerIdentifier: issuer };
    }
    case 'DisableOutboundWebIdentityFederation': {
      const f = deps.state.outboundFederation[account];
      if (!f?.enabled) throw new AwsError('FeatureDisabled', 'Outbound web identity federation is not enabled for this account.', 404);
      f.enabled = false;
      deps.persist();
      return {};
    }
    default: {
      const f = deps.state.outboundFederation[account];
      if (!f?.enabled) throw new AwsError('FeatureDisabled', 'Outbound web identity federation is not enabled for this account.', 404);
      return { IssuerIdentifier: f.issuer, JwtVendingEnabled: true };
    }
  }
}
