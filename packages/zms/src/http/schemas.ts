/**
 * JSON Schemas of the ZMS API, derived from Athenz's RDL (core/zms/src/main/rdl:
 * Names.tdl for name patterns, Domain/Role/Policy/ServiceIdentity/Template.tdl
 * for the types). Fastify validates requests with them (ajv) and serves them as
 * OpenAPI. Limits live here, once per kind of name, so that create and every
 * later path agree; numbers stay within what both SQLite and PostgreSQL hold.
 */

// ---- Names.tdl: the patterns and length limits live in core/names.ts
import { NAME_LIMITS, NAME_PATTERNS } from '@tessera/core/names';

const { simple: SIMPLE, compound: COMPOUND, resource: RESOURCE, member: MEMBER } = NAME_PATTERNS;

/** Name limits (core/names.ts), plus free text and numbers. */
export const LIMITS = {
  domain: NAME_LIMITS.domain,
  simple: NAME_LIMITS.simple,
  entity: NAME_LIMITS.entity,
  member: NAME_LIMITS.member,
  resource: NAME_LIMITS.resource,
  action: NAME_LIMITS.action,
  text: 4096,
  /** Athenz's Int32 and our INTEGER columns. */
  int32: 2147483647,
} as const;

/** How each pattern is described in a 400 (ajv reports only the pattern). */
const described = new Map<string, string>();
function named(pattern: string, maxLength: number, description: string, allowEmpty = false) {
  const full = allowEmpty ? `^(?:${pattern})?$` : `^(?:${pattern})$`;
  described.set(full, description);
  return { type: 'string', pattern: full, maxLength } as const;
}
export const patternDescription = (pattern: string): string | undefined => described.get(pattern);

const SIMPLE_WORDS = 'letters, digits, "_" and "-", not starting with "-"';
const COMPOUND_WORDS = 'dot-separated parts of letters, digits, "_" and "-"';
export const simpleName = named(SIMPLE, LIMITS.simple, `a simple name (${SIMPLE_WORDS})`);
export const domainName = named(COMPOUND, LIMITS.domain, `a domain name (${COMPOUND_WORDS}, at most ${LIMITS.domain} characters)`);
export const topLevelDomainName = named(SIMPLE, LIMITS.domain, `a top-level domain name (${SIMPLE_WORDS}, at most ${LIMITS.domain} characters)`);
export const entityName = named(COMPOUND, LIMITS.entity, `a name of ${COMPOUND_WORDS}`);
export const serviceName = named(COMPOUND, LIMITS.entity, `a service name such as "sports.api" (${COMPOUND_WORDS})`);
export const resourceName = named(RESOURCE, LIMITS.resource, '"<domain>" or "<domain>:<entity>"');
export const memberName = named(MEMBER, LIMITS.member, '"*", "<domain>.*", "<domain>.<name>", "<domain>.<name>*" or "<domain>:group.<group>"');
const optionalName = (pattern: string, max: number, words: string) => named(pattern, max, words, true);

/** Athenz rejects control characters in assertion fields (ZMSUtils.validatePolicyAssertion). */
const noControl = (maxLength: number, minLength = 0) => {
  const pattern = '^[^\\u0000-\\u001f\\u007f]*$';
  described.set(pattern, 'text without control characters (no CR, LF, NUL, ...)');
  return { type: 'string', pattern, minLength, maxLength } as const;
};

// ---- scalars: Athenz clients send "" (and sometimes null) for unset optional values
const str = (maxLength: number = LIMITS.text) => ({ type: ['string', 'null'], maxLength }) as const;
const bool = { type: ['boolean', 'null'] } as const;
const int32 = { type: ['integer', 'null'], minimum: 0, maximum: LIMITS.int32 } as const;
const int64 = { type: 'integer', minimum: 0 } as const;
export const timestamp = { type: 'string', format: 'date-time', description: 'UTC, ISO-8601 with milliseconds' } as const;
const timestampIn = { type: ['string', 'null'], maxLength: 64, description: 'ISO-8601 timestamp' } as const;
const list = (items: object, maxItems = 10000) => ({ type: ['array', 'null'], items, maxItems }) as const;

// Request and response objects keep unknown fields (Athenz's types have many more than Tessera stores).
export const obj = (properties: Record<string, object>, required: string[] = []) => ({ type: 'object', properties, required, additionalProperties: true });

// ---- Domain.tdl
const domainMetaFields = {
  description: str(),
  org: optionalName(RESOURCE, LIMITS.resource, '"<domain>" or "<domain>:<entity>"'),
  enabled: bool,
  auditEnabled: bool,
  account: str(512),
  awsAccountName: str(256),
  ypmId: int32,
  applicationId: str(256),
  certDnsDomain: str(256),
  memberExpiryDays: int32,
  tokenExpiryMins: int32,
  serviceCertExpiryMins: int32,
  roleCertExpiryMins: int32,
  signAlgorithm: { type: ['string', 'null'], enum: ['rsa', 'ec', '', null] },
  serviceExpiryDays: int32,
  groupExpiryDays: int32,
  businessService: str(256),
  productId: str(256),
};
export const DomainMeta = obj(domainMetaFields);
const TemplateNamesBody = obj({ templateNames: list(simpleName, 100) });
const adminUsers = { type: 'array', items: memberName, maxItems: 100 } as const;
export const TopLevelDomain = obj({ ...domainMetaFields, name: topLevelDomainName, adminUsers, templates: TemplateNamesBody, templateNames: list(simpleName, 100) }, ['name']);
export const SubDomain = obj({ ...domainMetaFields, name: simpleName, parent: domainName, adminUsers, templates: TemplateNamesBody, templateNames: list(simpleName, 100) }, ['name']);
export const UserDomain = obj({ ...domainMetaFields, name: str(LIMITS.simple), templates: TemplateNamesBody, templateNames: list(simpleName, 100) });
export const Domain = obj({ ...domainMetaFields, name: domainName, modified: timestamp, id: { type: 'string' } }, ['name']);
export const DomainList = obj({ names: { type: 'array', items: domainName }, next: { type: 'string' } }, ['names']);

// ---- Role.tdl
export const RoleMember = obj({
  memberName,
  expiration: timestampIn,
  active: bool,
  approved: bool,
  auditRef: str(),
  systemDisabled: int32,
}, ['memberName']);
export const Role = obj({
  name: resourceName,
  modified: timestampIn,
  members: list(memberName),
  roleMembers: list(RoleMember),
  trust: optionalName(COMPOUND, LIMITS.domain, `a domain name (${COMPOUND_WORDS})`),
  description: str(),
  auditEnabled: bool,
  selfServe: bool,
});
export const Membership = obj({
  memberName: { ...memberName, type: ['string', 'null'] },
  isMember: bool,
  roleName: optionalName(RESOURCE, LIMITS.resource, '"<domain>:role.<role>" or "<role>"'),
  expiration: timestampIn,
  active: bool,
  approved: bool,
  auditRef: str(),
});
export const RoleList = obj({ names: { type: 'array', items: { type: 'string' } }, next: { type: 'string' } }, ['names']);

// ---- Policy.tdl
export const Assertion = obj({
  role: noControl(LIMITS.entity, 1),
  resource: noControl(LIMITS.resource, 1),
  action: noControl(LIMITS.action, 1),
  effect: { type: ['string', 'null'], enum: ['ALLOW', 'DENY', 'allow', 'deny', '', null] },
  id: { type: ['integer', 'null'], minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  caseSensitive: bool,
}, ['role', 'resource', 'action']);
export const Policy = obj({
  name: resourceName,
  modified: timestampIn,
  assertions: list(Assertion),
  caseSensitive: bool,
  version: optionalName(SIMPLE, LIMITS.simple, `a simple name (${SIMPLE_WORDS})`),
  active: bool,
  description: str(),
});

// ---- ServiceIdentity.tdl
export const PublicKeyEntry = obj({
  key: { type: 'string', pattern: '^[a-zA-Z0-9._-]+$', maxLength: 16384, description: 'YBase64 of the PEM public key' },
  id: { ...simpleName, type: ['string', 'null'] },
}, ['key']);
described.set('^[a-zA-Z0-9._-]+$', 'YBase64 (letters, digits, ".", "_" and "-")');
export const ServiceIdentity = obj({
  name: serviceName,
  description: str(),
  publicKeys: list(PublicKeyEntry, 100),
  providerEndpoint: str(1024),
  modified: timestampIn,
  executable: str(1024),
  hosts: list({ type: 'string', maxLength: 256 }, 1000),
  user: str(256),
  group: str(256),
});
export const ServiceIdentitySystemMeta = obj({ providerEndpoint: str(1024) });

// ---- Template.tdl
export const DomainTemplate = obj({
  templateNames: list(simpleName, 100),
  params: list(obj({ name: simpleName, value: simpleName }, ['name', 'value']), 100),
});

// ---- errors, lists and Tessera's own bodies
export const ResourceError = obj({ code: { type: 'integer' }, message: { type: 'string' } }, ['code', 'message']);
export const Password = obj({ password: { type: 'string', maxLength: 1024 } }, ['password']);
export const SessionLogin = obj({ user: { type: 'string', maxLength: 256 }, password: { type: 'string', maxLength: 1024 } });

// ---- path parameters and query strings
export const params = (properties: Record<string, object>) => ({ type: 'object', properties, required: Object.keys(properties) });
export const query = (properties: Record<string, object>) => ({ type: 'object', properties });
export const boolString = { type: 'string', enum: ['true', 'false'] } as const;
export const intString = { type: 'string', pattern: '^[0-9]{1,9}$' } as const;
described.set('^[0-9]{1,9}$', 'a whole number');
export const anyString = (maxLength: number = LIMITS.resource) => ({ type: 'string', maxLength }) as const;

/** Common responses: every refusal is a ResourceError. */
export const errors = { 400: ResourceError, 401: ResourceError, 403: ResourceError, 404: ResourceError };
export const noContent = { 204: { type: 'null', description: 'No content' } };

// ---- response types (documented in OpenAPI; the conformance test checks the answers against the RDL)
const arrayOf = (items: object) => ({ type: 'array', items }) as const;
const names = { type: 'array', items: { type: 'string' } } as const;
export const Roles = obj({ list: arrayOf(Role) }, ['list']);
export const PolicyList = obj({ names, next: { type: 'string' } }, ['names']);
export const Policies = obj({ list: arrayOf(Policy) }, ['list']);
export const ServiceIdentityList = obj({ names, next: { type: 'string' } }, ['names']);
export const ServiceIdentities = obj({ list: arrayOf(ServiceIdentity), serviceMatchCount: int64 }, ['list']);
export const ServerTemplateList = obj({ templateNames: names }, ['templateNames']);
export const DomainTemplateList = obj({ templateNames: names }, ['templateNames']);
const TemplateMetaData = obj({ templateName: { type: 'string' }, description: { type: 'string' }, currentVersion: { type: 'integer' }, latestVersion: { type: 'integer' }, keywordsToReplace: { type: 'string' }, timestamp: { type: 'string' }, autoUpdate: { type: 'boolean' } });
export const Template = obj({ roles: arrayOf(Role), policies: arrayOf(Policy), services: arrayOf(ServiceIdentity), metadata: TemplateMetaData }, ['roles', 'policies']);
export const Access = obj({ granted: { type: 'boolean' } }, ['granted']);
export const UserToken = obj({ token: { type: 'string' }, header: { type: 'string' } }, ['token']);
export const Session = obj({ principal: { type: 'string' }, systemAdmin: { type: 'boolean' }, csrfToken: { type: 'string' }, expires: timestamp }, ['principal', 'systemAdmin']);
export const DomainHistory = obj({ entries: arrayOf(obj({ id: { type: 'integer' }, created: timestamp, principal: { type: 'string' }, api: { type: 'string' }, details: {}, auditRef: { type: 'string' } }, ['id', 'created', 'principal', 'api'])) }, ['entries']);
export const Instances = obj({ instances: arrayOf(obj({ instanceId: { type: 'string' }, provider: { type: 'string' }, issued: timestamp, lastRefresh: timestamp, expires: timestamp, clientIp: { type: 'string' }, platform: { type: 'string' }, hostname: { type: 'string' }, revoked: { type: 'boolean' }, takeover: obj({}) }, ['instanceId', 'provider'])) }, ['instances']);
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
export const ServiceStatus = obj({ services: arrayOf(obj({ name: { type: 'string' }, instances: { type: 'integer' }, lastIssued: timestamp, lastFailure: obj({ time: timestamp, provider: { type: 'string' }, reason: { type: 'string' }, message: { type: 'string' }, facts: stringMap, claims: stringMap, clientIp: { type: 'string' } }, ['time', 'provider', 'reason', 'message']) }, ['name', 'instances'])) }, ['services']);
const DomainPolicies = obj({ domain: domainName, policies: arrayOf(Policy) }, ['domain', 'policies']);
const SignedPolicies = obj({ contents: DomainPolicies, signature: { type: 'string' }, keyId: { type: 'string' } }, ['contents', 'signature', 'keyId']);
const DomainData = obj({ ...domainMetaFields, name: domainName, modified: timestamp, roles: arrayOf(Role), policies: SignedPolicies, services: arrayOf(ServiceIdentity), entities: arrayOf(obj({})), groups: arrayOf(obj({})) }, ['name', 'modified', 'roles', 'policies', 'services']);
const SignedDomain = obj({ domain: DomainData, signature: { type: 'string' }, keyId: { type: 'string' } }, ['domain']);
export const SignedDomains = obj({ domains: arrayOf(SignedDomain) }, ['domains']);
export const JWSDomain = obj({ payload: { type: 'string' }, protected: { type: 'string' }, header: obj({ kid: { type: 'string' } }), signature: { type: 'string' } }, ['payload', 'protected', 'header', 'signature']);
export const idString = { type: 'string', pattern: '^[0-9]{1,16}$' } as const;
described.set('^[0-9]{1,16}$', 'an assertion id (a whole number)');
export const DomainTemplateDetailsList = obj({ metaData: arrayOf(TemplateMetaData) }, ['metaData']);
const MemberRole = obj({ roleName: { type: 'string' }, domainName: { type: 'string' }, memberName: { type: 'string' }, expiration: timestamp, auditRef: { type: 'string' }, systemDisabled: { type: 'integer' } }, ['roleName']);
export const DomainRoleMember = obj({ memberName: { type: 'string' }, memberRoles: arrayOf(MemberRole) }, ['memberName', 'memberRoles']);
export const DomainRoleMembers = obj({ domainName: { type: 'string' }, members: arrayOf(DomainRoleMember) }, ['domainName', 'members']);
const AuthHistory = obj({ uriDomain: { type: 'string' }, principalDomain: { type: 'string' }, principalName: { type: 'string' }, timestamp, endpoint: { type: 'string' }, ttl: { type: 'integer' } }, ['ttl']);
export const AuthHistoryDependencies = obj({ incomingDependencies: arrayOf(AuthHistory), outgoingDependencies: arrayOf(AuthHistory) }, ['incomingDependencies', 'outgoingDependencies']);
export const UserList = obj({ names }, ['names']);
export const DomainMetaStoreValidValuesList = obj({ validValues: { type: 'array', items: { type: 'string' } } }, ['validValues']);
export const UserAuthorityAttributeMap = obj({ attributes: { type: 'object', additionalProperties: obj({ values: { type: 'array', items: { type: 'string' } } }, ['values']) } }, ['attributes']);
export const ServicePrincipal = obj({ domain: { type: 'string' }, service: { type: 'string' }, token: { type: 'string' } }, ['domain', 'service', 'token']);
export const DomainDataCheck = obj({
  danglingRoles: names,
  danglingPolicies: arrayOf(obj({ policyName: { type: 'string' }, roleName: { type: 'string' } }, ['policyName', 'roleName'])),
  policyCount: { type: 'integer' },
  assertionCount: { type: 'integer' },
  roleWildCardCount: { type: 'integer' },
  providersWithoutTrust: names,
  tenantsWithoutAssumeRole: names,
}, ['policyCount', 'assertionCount', 'roleWildCardCount']);
export const Status = obj({ code: { type: 'integer' }, message: { type: 'string' } }, ['code', 'message']);

// Athenz MSD's workload types (msd.rdl), for its UI's Instances tab.
const DynamicWorkload = obj({ domainName, serviceName: simpleName, uuid: { type: 'string' }, ipAddresses: { type: 'array', items: { type: 'string' } }, hostname: { type: 'string' }, provider: { type: 'string' }, updateTime: timestamp, certExpiryTime: timestamp, certIssueTime: timestamp }, ['domainName', 'serviceName', 'uuid', 'ipAddresses', 'hostname', 'provider', 'updateTime', 'certExpiryTime']);
export const Workloads = obj({ workloadList: arrayOf(DynamicWorkload), dynamicWorkloadList: arrayOf(DynamicWorkload), staticWorkloadList: arrayOf(obj({})) }, ['workloadList']);
const DomainServices = obj({ domainName, serviceNames: { type: 'array', maxItems: 1000, items: simpleName } }, ['domainName', 'serviceNames']);
export const BulkWorkloadRequest = obj({ domainServices: { type: 'array', maxItems: 100, items: DomainServices }, fetchStaticTypeWorkloads: { type: 'boolean' }, fetchDynamicTypeWorkloads: { type: 'boolean' }, applicableStaticTypes: { type: 'array', items: { type: 'string' } } }, ['domainServices']);
export const BulkWorkloadResponse = obj({ unmodifiedServices: arrayOf(DomainServices), workloads: Workloads }, ['unmodifiedServices', 'workloads']);
