/**
 * Who may call each ZMS write, in one table: the API (the route's
 * operationId) → the resource and action the caller needs (Athenz's access
 * check on the domain snapshots), or one of Athenz's special cases as a named
 * rule. Applied in a preHandler, before the handler; reads need only an
 * authenticated caller, which their handlers ask for.
 *
 * Order of refusals, as the handlers had it: no credentials 401, a malformed
 * name in the path 400, an unknown domain 404, then the permission 403.
 */
import type { FastifyRequest } from 'fastify';
import { badRequest, forbidden } from '@tessera/core/errors';
import { policyResourceName, roleResourceName, serviceResourceName } from '@tessera/core/names';
import type { ZmsContext } from '../context.ts';
import { SYSTEM_DOMAIN } from '../config.ts';
import { authorize, isAllowed, isSystemAdmin } from '../authorize.ts';
import { validUserName } from '../users.ts';
import { domainData } from '../domain-read.ts';
import { SYSTEM_ATTRIBUTE_NAMES } from '../domain-meta.ts';
import type { Authenticator } from '../auth/authenticate.ts';
import { actorOf, names, type Params } from './request.ts';

type Names = ReturnType<typeof names>;

/** The caller needs `action` on the resource (Athenz's access check). */
interface Needs {
  action: string;
  resource: (n: Names, req: FastifyRequest, ctx: ZmsContext) => string;
}

/** Athenz's special cases: each a rule of its own, with the refusal it gives. */
type NamedRule = (ctx: ZmsContext, principal: string, n: Names, req: FastifyRequest) => void;

type Rule = {
  /** API name in the 403 (several routes share one). */
  api?: string;
  /** The path's domain must exist (404 before 403). */
  domain?: boolean;
} & ({ needs: Needs } | { rule: NamedRule });

const domainWide = (action: string): Needs => ({ action, resource: (n) => `${n.domain()}:` });
const onRole = (action: string): Needs => ({ action, resource: (n) => roleResourceName(n.domain(), n.role()) });
const onPolicy = (action: string): Needs => ({ action, resource: (n) => policyResourceName(n.domain(), n.policy()) });
const onService = (action: string): Needs => ({ action, resource: (n) => serviceResourceName(n.domain(), n.service()) });
const onSystem = (action: string): Needs => ({ action, resource: () => `${SYSTEM_DOMAIN}:domain` });
const param = (req: FastifyRequest, key: string) => (req.params as Params)[key] ?? '';

// ---- named rules: Athenz's special cases

/** Role members are managed by those with update or update_members on the role; anyone may leave a role. */
function roleMembers(adding: boolean): NamedRule {
  return (ctx, principal, n) => {
    const resource = roleResourceName(n.domain(), n.role());
    if (!adding && principal === n.member()) return;
    if (isAllowed(ctx, principal, 'update', resource) || isAllowed(ctx, principal, 'update_members', resource)) return;
    throw forbidden(`${adding ? 'putMembership' : 'deleteMembership'}: principal ${principal} is not authorized to ${adding ? 'add' : 'delete'} members (needs update on ${resource})`);
  };
}

/** System attributes are set by those with update on sys.auth:meta.domain.<attribute>.<domain>; `enabled` also by the domain's admins. */
const domainSystemMeta: NamedRule = (ctx, principal, n) => {
  const domain = n.domain();
  const attribute = n.simple('attribute', 'attribute').toLowerCase();
  if (!SYSTEM_ATTRIBUTE_NAMES.includes(attribute)) throw badRequest(`unknown system meta attribute: ${attribute} (known: ${SYSTEM_ATTRIBUTE_NAMES.join(', ')})`);
  const resource = `${SYSTEM_DOMAIN}:meta.domain.${attribute}.${domain}`;
  if (isAllowed(ctx, principal, 'update', resource) || (attribute === 'enabled' && isAllowed(ctx, principal, 'update', `${domain}:`))) return;
  throw forbidden(`putDomainSystemMeta: unauthorized to update system meta attribute: ${attribute} (needs update on ${resource} in ${SYSTEM_DOMAIN}; ask a system administrator)`);
};

/** Service system attributes: update on sys.auth:meta.service.<attribute>.<domain>; Tessera keeps only providerendpoint. */
const serviceSystemMeta: NamedRule = (ctx, principal, n) => {
  const api = 'putServiceIdentitySystemMeta';
  const attribute = n.simple('attribute', 'attribute').toLowerCase();
  if (attribute !== 'providerendpoint') throw badRequest(`${api}: unknown service system meta attribute: ${attribute} (known: providerendpoint)`);
  n.service();
  const resource = `${SYSTEM_DOMAIN}:meta.service.${attribute}.${n.domain()}`;
  if (!isAllowed(ctx, principal, 'update', resource)) {
    throw forbidden(`${api}: unauthorized to update service system meta attribute: ${attribute} (needs update on ${resource})`);
  }
};

/** A sub-domain may be deleted by its own admins or by the parent's. */
const subDomainOrParent: NamedRule = (ctx, principal, n) => {
  const parent = n.parent();
  const full = `${parent}.${n.simple('name', 'sub-domain name')}`;
  if (isAllowed(ctx, principal, 'delete', `${full}:domain`)) return;
  authorize(ctx, 'deleteSubDomain', principal, 'delete', `${parent}:domain`);
};

/** A password is set by its user, or by a system admin (who creates users). */
const selfOrSystemAdmin: NamedRule = (ctx, principal, _n, req) => {
  const user = validUserName(ctx.config.userDomain, param(req, 'name'));
  if (user !== principal && !isSystemAdmin(ctx, principal)) throw forbidden("setUserPassword: only system administrators may set another user's password");
};

/** Where a template is applied: the whole domain's template set, or one template. */
const onTemplate = (action: string): Needs => ({
  action,
  resource: (n, req) => (param(req, 'template') ? `${n.domain()}:template.${n.simple('template', 'template name')}` : `${n.domain()}:template`),
});

/** The user's own domain, `<user domain>.<name>`. */
const onUserDomain = (action: string): Needs => ({
  action,
  resource: (n, _req, ctx) => `${ctx.config.userDomain}.${n.simple('name', 'user domain name')}:domain`,
});

/** Every ZMS write and who may make it. */
export const WRITE_RULES: Record<string, Rule> = {
  postTopLevelDomain: { needs: onSystem('create') },
  postSubDomain: { needs: { action: 'create', resource: (n) => `${n.parent()}:domain` } },
  postUserDomain: { needs: onUserDomain('create') },
  deleteTopLevelDomain: { needs: onSystem('delete') },
  deleteSubDomain: { rule: subDomainOrParent },
  deleteUserDomain: { needs: onUserDomain('delete') },
  putDomainMeta: { domain: true, needs: domainWide('update') },
  putDomainSystemMeta: { domain: true, rule: domainSystemMeta },
  putServiceIdentity: { domain: true, needs: onService('update') },
  deleteServiceIdentity: { domain: true, needs: onService('delete') },
  putPublicKeyEntry: { domain: true, needs: onService('update') },
  deletePublicKeyEntry: { domain: true, needs: onService('update') },
  putServiceIdentitySystemMeta: { domain: true, rule: serviceSystemMeta },
  putRole: { domain: true, needs: onRole('update') },
  deleteRole: { domain: true, needs: onRole('delete') },
  putMembership: { domain: true, rule: roleMembers(true) },
  deleteMembership: { domain: true, rule: roleMembers(false) },
  putPolicy: { domain: true, needs: onPolicy('update') },
  deletePolicy: { domain: true, needs: onPolicy('delete') },
  putAssertion: { domain: true, needs: onPolicy('update') },
  deleteAssertion: { domain: true, needs: onPolicy('update') },
  putDomainTemplate: { domain: true, needs: onTemplate('update') },
  putDomainTemplateExt: { api: 'putDomainTemplate', domain: true, needs: onTemplate('update') },
  deleteDomainTemplate: { domain: true, needs: onTemplate('delete') },
  putUserPassword: { rule: selfOrSystemAdmin },
  revokeInstance: { domain: true, needs: { action: 'delete', resource: (n, req) => `${n.domain()}:instance.${param(req, 'instanceId')}` } },
};

/** The preHandler: the route's rule, if it has one, before its handler runs. */
export function authorizeWrites(ctx: ZmsContext, auth: Authenticator) {
  return async (req: FastifyRequest): Promise<void> => {
    const api = (req.routeOptions.schema as { operationId?: string } | undefined)?.operationId;
    const rule = api ? WRITE_RULES[api] : undefined;
    if (!rule || !api) return;
    const { principal } = actorOf(auth, req);
    const n = names(req);
    if (rule.domain) domainData(ctx, n.domain());
    if ('rule' in rule) return rule.rule(ctx, principal, n, req);
    authorize(ctx, rule.api ?? api, principal, rule.needs.action, rule.needs.resource(n, req, ctx));
  };
}
