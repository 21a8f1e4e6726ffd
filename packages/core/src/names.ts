/**
 * Athenz naming rules (core/zms/src/main/rdl/Names.tdl) and the canonical
 * resource strings built from names. Athenz lower-cases names on every call;
 * so do we, before validating.
 */
import { badRequest } from './errors.ts';
import { claim, refusal } from './explained.ts';

/**
 * The Names.tdl patterns (unanchored), for the route schemas (ajv) and the
 * checks below: defined here once.
 */
const SIMPLE = '[a-zA-Z0-9_][a-zA-Z0-9_-]*';
const COMPOUND = `(?:${SIMPLE}\\.)*${SIMPLE}`;
export const NAME_PATTERNS = {
  simple: SIMPLE,
  compound: COMPOUND,
  resource: `${COMPOUND}(?::${COMPOUND})?:?`,
  member: `\\*|${COMPOUND}\\.\\*|${COMPOUND}\\*?|${COMPOUND}:group\\.${COMPOUND}|${COMPOUND}:ext\\..+`,
} as const;

const anchored = (pattern: string) => new RegExp(`^(?:${pattern})$`);
const simpleNameRe = anchored(NAME_PATTERNS.simple);
const compoundNameRe = anchored(NAME_PATTERNS.compound);
const resourceNameRe = anchored(NAME_PATTERNS.resource);
const memberNameRe = anchored(NAME_PATTERNS.member);

export const DOMAIN_NAME_MAX_LENGTH = 128;

/**
 * The longest name of each kind (Athenz: domain_name_max_len 128; entity names
 * VARCHAR(512) in its schema), for the route schemas and validName alike.
 */
export const NAME_LIMITS = {
  domain: DOMAIN_NAME_MAX_LENGTH,
  simple: 128,
  entity: 512,
  service: 512,
  member: 512,
  action: 512,
  resource: 1024,
} as const;
const MAX_LENGTH: Record<NameKind, number> = NAME_LIMITS;

export const isSimpleName = (s: string): boolean => simpleNameRe.test(s);
export const isCompoundName = (s: string): boolean => compoundNameRe.test(s);
export const isDomainName = isCompoundName;
export const isEntityName = isCompoundName;
export const isServiceName = isCompoundName;
export const isActionName = isCompoundName;
export const isResourceName = (s: string): boolean => resourceNameRe.test(s);
export const isMemberName = (s: string): boolean => memberNameRe.test(s);

type NameKind = 'domain' | 'simple' | 'entity' | 'service' | 'member' | 'resource' | 'action';

const checks: Record<NameKind, { test: (s: string) => boolean; pattern: string }> = {
  simple: { test: isSimpleName, pattern: 'letters, digits, "_" and "-", not starting with "-"' },
  domain: { test: isDomainName, pattern: 'dot-separated parts of letters, digits, "_" and "-"' },
  entity: { test: isEntityName, pattern: 'dot-separated parts of letters, digits, "_" and "-"' },
  service: { test: isServiceName, pattern: 'dot-separated parts of letters, digits, "_" and "-"' },
  action: { test: isActionName, pattern: 'dot-separated parts of letters, digits, "_" and "-"' },
  resource: { test: isResourceName, pattern: '"<domain>" or "<domain>:<entity>"' },
  member: {
    test: isMemberName,
    pattern: '"*", "<domain>.*", "<domain>.<name>", "<domain>.<name>*" or "<domain>:group.<group>"',
  },
};

/**
 * Lower-cases and validates a name, or throws a 400 that names the field and
 * the expected form.
 */
export function validName(kind: NameKind, field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw badRequest(`${field} is required`);
  }
  const name = value.toLowerCase();
  if (name.length > MAX_LENGTH[kind]) {
    throw badRequest(`Invalid ${field}: longer than ${MAX_LENGTH[kind]} characters`);
  }
  if (!checks[kind].test(name)) {
    throw badRequest(refusal('invalid_name')`Invalid ${field} ${claim(field, value, { quoted: true })}: expected ${checks[kind].pattern}`);
  }
  return name;
}

/**
 * An assertion's role: a role resource name, `<domain>:role.<role>`. Athenz
 * types Assertion.role as a plain String (Policy.tdl) and checks it as a
 * ResourceName (`{DomainName}(:{EntityName})?`, Names.tdl) only for template
 * assertions (ZMSUtils.validatePolicyAssertion with validateRoleName, called
 * from DBService when applying a template); Tessera applies that rule to every
 * assertion, keeping the `*` and `?` globs Athenz's access check honours in the
 * role name. Text such as `x'; DROP TABLE domains;--` could never match a role.
 */
const GLOB_SIMPLE = '[a-zA-Z0-9_*?][a-zA-Z0-9_*?-]*';
const assertionRoleRe = new RegExp(`^${COMPOUND}:role\\.(?:${GLOB_SIMPLE}\\.)*${GLOB_SIMPLE}$`);
export const isAssertionRole = (s: string): boolean => assertionRoleRe.test(s);

/** Lower-cased, validated assertion role (see isAssertionRole), or a 400 naming the field. */
export function validAssertionRole(field: string, role: string): string {
  const name = role.toLowerCase();
  if (!isAssertionRole(name)) {
    throw badRequest(
      refusal('invalid_name')`Invalid ${field} ${claim(field, role, { quoted: true })}: expected a role name "<domain>:role.<role>" (dot-separated parts of letters, digits, "_" and "-"; "*" and "?" as globs in the role part)`,
    );
  }
  return name;
}

/** Athenz's reserved service names (ZMS `athenz.zms.reserved_service_names`). */
const RESERVED_SERVICE_NAMES = new Set(['com', 'net', 'org', 'edu', 'biz', 'gov', 'mil', 'info', 'name', 'mobi', 'cloud']);
/** Athenz's `athenz.zms.service_name_min_length` default. */
export const SERVICE_NAME_MIN_LENGTH = 3;

/**
 * Why `name` (a SimpleName, lower-cased) cannot name a new service, or
 * undefined: the rules Athenz's putServiceIdentity adds. One rule for every
 * place a service is named — adding it, the launch template's `service`
 * parameter, and the hints that suggest an add-service command.
 */
export function serviceNameProblem(name: string, minLength = SERVICE_NAME_MIN_LENGTH): string | undefined {
  if (name.includes('.')) return `Invalid service name "${name}": no dots; the full name is <domain>.<service>`;
  if (RESERVED_SERVICE_NAMES.has(name)) return `reserved service name: ${name}`;
  if (name.includes('_')) return `service name with underscore not allowed: ${name} (use "-")`;
  if (name.length < minLength) return `service name length too short: "${name}" needs at least ${minLength} characters`;
  return undefined;
}

export const roleResourceName = (domain: string, role: string): string => `${domain}:role.${role}`;
export const policyResourceName = (domain: string, policy: string): string => `${domain}:policy.${policy}`;
export const serviceResourceName = (domain: string, service: string): string => `${domain}:service.${service}`;
export const serviceFullName = (domain: string, service: string): string => `${domain}.${service}`;

/** `sports.api` → { domain: 'sports', service: 'api' } (split at the last dot). */
export function splitServiceName(full: string): { domain: string; service: string } | null {
  const i = full.lastIndexOf('.');
  if (i <= 0 || i === full.length - 1) return null;
  return { domain: full.slice(0, i), service: full.slice(i + 1) };
}

/** `sports:role.readers` → { domain: 'sports', name: 'readers' }, or null for another kind. */
export function splitResourceName(full: string, kind: 'role' | 'policy'): { domain: string; name: string } | null {
  const marker = `:${kind}.`;
  const i = full.indexOf(marker);
  if (i <= 0) return null;
  return { domain: full.slice(0, i), name: full.slice(i + marker.length) };
}

/** The domain part of a resource: text before the first ':' (the whole string when there is none). */
export function resourceDomain(resource: string): string {
  const i = resource.indexOf(':');
  return i < 0 ? resource : resource.slice(0, i);
}

/** `<service>.<domain-with-dashes>.<suffix>`: the SAN DNS name Athenz gives a service certificate. */
export function serviceDnsName(domain: string, service: string, dnsSuffix: string): string {
  return `${service}.${domain.replace(/\./g, '-')}.${dnsSuffix}`;
}
