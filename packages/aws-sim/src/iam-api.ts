/**
 * IAM actions on roles. Only long-term credentials (account root or IAM user)
 * may call them: the simulator has no identity policies, so role sessions get
 * AccessDenied rather than silently becoming administrators.
 */
import { accessDenied, invalidAction, validationError } from './aws-error.ts';
import type { Principal } from './credentials.ts';
import type { RoleStore } from './iam-roles.ts';
import type { QueryParams, XmlShape } from './query-protocol.ts';
import type { RoleRecord, RoleTag } from './state.ts';
import { FEDERATION_ACTIONS, iamOidcAction, OIDC_PROVIDER_ACTIONS, READ_ONLY_IAM_ACTIONS, type IamOidcDeps } from './iam-oidc.ts';

export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const IAM_VERSION = '2010-05-08';

const ROLE_ACTIONS = ['CreateRole', 'GetRole', 'UpdateAssumeRolePolicy', 'UpdateRole', 'DeleteRole', 'ListRoles'];
const ACTIONS = new Set([...ROLE_ACTIONS, ...OIDC_PROVIDER_ACTIONS, ...FEDERATION_ACTIONS]);

/** IAM returns policy documents URL-encoded. */
export function roleXml(r: RoleRecord): Record<string, XmlShape> {
  return {
    Path: r.path,
    RoleName: r.roleName,
    RoleId: r.roleId,
    Arn: r.arn,
    CreateDate: r.createDate,
    AssumeRolePolicyDocument: encodeURIComponent(r.assumeRolePolicyDocument),
    Description: r.description,
    MaxSessionDuration: r.maxSessionDuration,
    Tags: r.tags.length > 0 ? r.tags.map((t) => ({ Key: t.Key, Value: t.Value })) : undefined,
    RoleLastUsed: {},
  };
}

function tags(params: QueryParams): RoleTag[] {
  const list = params.members('Tags');
  if (list.length > 50) throw validationError('A role can have at most 50 tags.');
  return list.map((t) => {
    if (!t.Key || t.Key.length > 128 || t.Value === undefined || t.Value.length > 256) {
      throw validationError('Each tag needs a Key (1-128 characters) and a Value (0-256 characters).');
    }
    return { Key: t.Key, Value: t.Value };
  });
}

function listRoles(params: QueryParams, account: string, roles: RoleStore): Record<string, XmlShape> {
  const prefix = params.get('PathPrefix') ?? '/';
  const maxItems = params.int('MaxItems') ?? 100;
  if (maxItems < 1 || maxItems > 1000) throw validationError(`Value '${maxItems}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`);
  const all = roles.list(account, prefix);
  const marker = params.get('Marker');
  let start = 0;
  if (marker !== undefined) {
    const after = Buffer.from(marker, 'base64url').toString('utf8').toLowerCase();
    start = all.findIndex((r) => r.roleName.toLowerCase() > after);
    if (start < 0) start = all.length;
  }
  const page = all.slice(start, start + maxItems);
  const truncated = start + maxItems < all.length;
  return {
    Roles: page.map(roleXml),
    IsTruncated: truncated,
    Marker: truncated ? Buffer.from(page[page.length - 1].roleName).toString('base64url') : undefined,
  };
}

export function iamAction(
  action: string,
  params: QueryParams,
  caller: Principal,
  roles: RoleStore,
  oidc: IamOidcDeps,
): Record<string, XmlShape> | undefined {
  if (!ACTIONS.has(action)) {
    throw invalidAction(`Could not find operation ${action} for version ${IAM_VERSION} (aws-sim implements ${[...ACTIONS].join(', ')})`);
  }
  if (caller.kind === 'assumed-role' && !READ_ONLY_IAM_ACTIONS.has(action)) {
    throw accessDenied(
      `User: ${caller.arn} is not authorized to perform: iam:${action} (aws-sim grants role sessions only ${[...READ_ONLY_IAM_ACTIONS].join(', ')})`,
    );
  }
  const account = caller.account;
  if (!ROLE_ACTIONS.includes(action)) return iamOidcAction(action, params, account, oidc);
  switch (action) {
    case 'CreateRole': {
      const role = roles.create({
        account,
        roleName: params.require('RoleName'),
        path: params.get('Path'),
        assumeRolePolicyDocument: params.require('AssumeRolePolicyDocument'),
        description: params.get('Description'),
        maxSessionDuration: params.int('MaxSessionDuration'),
        tags: tags(params),
      });
      return { Role: roleXml(role) };
    }
    case 'GetRole':
      return { Role: roleXml(roles.get(account, params.require('RoleName'))) };
    case 'UpdateAssumeRolePolicy':
      roles.updateAssumeRolePolicy(account, params.require('RoleName'), params.require('PolicyDocument'));
      return undefined;
    case 'UpdateRole':
      roles.update(account, params.require('RoleName'), {
        description: params.get('Description'),
        maxSessionDuration: params.int('MaxSessionDuration'),
      });
      return {};
    case 'DeleteRole':
      roles.delete(account, params.require('RoleName'));
      return undefined;
    default:
      return listRoles(params, account, roles);
  }
}
