/**
 * JSON Schemas of the ZTS API from Athenz's RDL (core/zts/src/main/rdl: Instance.rdli,
 * RoleCert.rdli, Token.rdli). Fastify checks the JSON types and sizes; the
 * operations keep the checks that name Athenz's rules (provider, domain,
 * service, CSR) in their own words. Served as OpenAPI at /zts/v1/openapi.json.
 */
const str = (maxLength: number) => ({ type: 'string', maxLength }) as const;
const int32 = { type: 'integer', minimum: 0, maximum: 2147483647 } as const;
const obj = (properties: Record<string, object>, required: string[] = []) => ({ type: 'object', properties, required, additionalProperties: true });
const ResourceError = obj({ code: { type: 'integer' }, message: { type: 'string' } }, ['code', 'message']);
const errors = { 400: ResourceError, 401: ResourceError, 403: ResourceError, 404: ResourceError };
const pathName = { type: 'string', maxLength: 1024 } as const;

const refreshFields = {
  attestationData: str(65536),
  csr: str(65536),
  ssh: str(65536),
  token: { type: 'boolean' },
  expiryTime: int32,
  hostname: str(512),
  hostCnames: { type: 'array', items: str(512), maxItems: 100 },
  namespace: str(128),
  cloud: str(128),
};
const InstanceRegisterInformation = obj({ ...refreshFields, provider: str(512), domain: str(128), service: str(128) });
const InstanceRefreshInformation = obj(refreshFields);
const InstanceIdentity = obj({
  provider: { type: 'string' },
  name: { type: 'string' },
  instanceId: { type: 'string' },
  x509Certificate: { type: 'string' },
  x509CertificateSigner: { type: 'string' },
  attributes: { type: 'object', additionalProperties: { type: 'string' } },
}, ['provider', 'name', 'instanceId']);
const RoleCertificateRequest = obj({ csr: str(65536), proxyForPrincipal: str(512), expiryTime: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }, prevCertNotBefore: str(64), prevCertNotAfter: str(64) });
const instanceParams = { type: 'object', properties: { provider: pathName, domain: pathName, service: pathName, instanceId: pathName }, required: ['provider', 'domain', 'service', 'instanceId'] };

export const ztsSchemas = {
  postInstanceRegisterInformation: { operationId: 'postInstanceRegisterInformation', tags: ['instances'], body: InstanceRegisterInformation, response: {
    201: InstanceIdentity,
    // Tessera extension: with `Tessera-Check-Only: true`, the checks passed and nothing was signed.
    200: obj({ provider: { type: 'string' }, name: { type: 'string' }, instanceId: { type: 'string' }, checks: { type: 'string' } }, ['provider', 'name', 'instanceId', 'checks']),
    ...errors,
  } },
  postInstanceRefreshInformation: { operationId: 'postInstanceRefreshInformation', tags: ['instances'], params: instanceParams, body: InstanceRefreshInformation, response: { 200: InstanceIdentity, ...errors } },
  deleteInstanceIdentity: { operationId: 'deleteInstanceIdentity', tags: ['instances'], params: instanceParams, response: { 204: { type: 'null' }, ...errors } },
  postRoleCertificateRequestExt: { operationId: 'postRoleCertificateRequestExt', tags: ['role certificates'], body: RoleCertificateRequest, response: { 200: obj({ x509Certificate: { type: 'string' } }, ['x509Certificate']), ...errors } },
  postRoleCertificateRequest: {
    operationId: 'postRoleCertificateRequest', tags: ['role certificates'],
    params: { type: 'object', properties: { domain: pathName, role: pathName }, required: ['domain', 'role'] },
    body: RoleCertificateRequest,
    response: { 200: obj({ token: { type: 'string' }, expiryTime: { type: 'integer' } }, ['token', 'expiryTime']), ...errors },
  },
  postSvidRequest: { operationId: 'postSvidRequest', tags: ['certificates'], body: obj({ csr: str(65536) }, ['csr']), response: { 200: obj({ x509Certificate: { type: 'string' }, spiffeId: { type: 'string' } }, ['x509Certificate', 'spiffeId']), ...errors } },
  postJwtSvidRequest: { operationId: 'postJwtSvidRequest', tags: ['tokens'], body: obj({ audience: { type: 'array', items: str(512), maxItems: 20 } }, ['audience']), response: { 200: obj({ token: { type: 'string' }, spiffeId: { type: 'string' } }, ['token', 'spiffeId']), ...errors } },
  getCertificateAuthorityBundle: { operationId: 'getCertificateAuthorityBundle', tags: ['certificates'], params: { type: 'object', properties: { name: pathName }, required: ['name'] }, response: { 200: obj({ name: { type: 'string' }, certs: { type: 'string' } }, ['name', 'certs']), ...errors } },
  getStatus: { operationId: 'getStatus', tags: ['status'], response: { 200: obj({ code: { type: 'integer' }, message: { type: 'string' } }, ['code', 'message']) } },
};
