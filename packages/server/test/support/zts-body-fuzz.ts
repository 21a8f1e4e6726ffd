/**
 * Property over the bodies of every ZTS route that issues something:
 * register, refresh, role certificates (both APIs), X509- and JWT-SVIDs, and
 * the OAuth2 token endpoint's form.
 * Whatever the body (random JSON, or a valid body with one field replaced,
 * inside the attestation data too), the answer is never a 5xx, comes in time,
 * is in Athenz's error shape when refused, and a refused request has no
 * certificate signed (the CA key's signature count does not move). Each
 * route's valid body is real: a Fargate task of sports.api in aws-sim,
 * attested through STS. Used by the bounded CI test (zts-body-fuzz.test.ts)
 * and the long run (scripts/fuzz-zts-bodies.ts). The token endpoint's
 * refusals are RFC 6749 error bodies, and what it issues verifies against
 * the published keys and names the caller.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { startAwsSim } from '@tessera/aws-sim/sim';
import { httpsJson } from '@tessera/core/https-client';
import { createCsr } from '@tessera/core/x509/csr';
import { generateKeyPair } from '@tessera/core/x509/keys';
import { fargateCreds, PROVIDER, setUpSports } from './cert-flow.ts';
import { bodyFor, hostileString, hostileValue } from './hostile-json.ts';
import { startTestServer, ztsMetric, type Backend, type TestServer } from './test-server.ts';
import { attestation, serviceCsr } from './workload.ts';

interface Route {
  path: string;
  body: Record<string, unknown>;
  /** The service certificate the request is made with (mTLS), when the route needs one. */
  mtls: boolean;
}

export interface ZtsFuzzTarget {
  t: TestServer;
  routes: Route[];
  /** The refresh route, with a valid body: it must still work after the fuzzing. */
  refresh: Route;
  /** What the instance holds now: a refresh that succeeds replaces it. */
  identity: { cert: string; key: string };
  close(): Promise<void>;
}

/** A server on aws-sim, the sports domain, and one registered Fargate task; the valid body of every route. */
export async function startZtsFuzzTarget(backend: Backend): Promise<ZtsFuzzTarget> {
  const sim = await startAwsSim();
  let t: TestServer | undefined;
  const close = async () => {
    await t?.close();
    await sim.close();
  };
  try {
    t = await startTestServer(backend, { awsStsEndpoint: sim.url });
    await setUpSports(t, sim);
    const { creds, taskId } = await fargateCreds(sim);
    const key = generateKeyPair('ec').privateKeyPem;
    const { csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: PROVIDER, instanceId: taskId, keyPem: key });
    const attestationData = attestation('sports.api', creds);
    const registerBody = { provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData };
    const reg = await httpsJson<{ x509Certificate: string }>({ method: 'POST', url: `${t.server.ztsUrl}/instance`, ca: t.ca, body: registerBody });
    assert.equal(reg.status, 201, reg.text);
    const roleCsr = await createCsr({
      keyPem: key,
      subject: { commonName: 'sports:role.readers', organizationalUnit: PROVIDER },
      uris: ['spiffe://sports/ra/readers', `athenz://instanceid/${PROVIDER}/${taskId}`, 'athenz://principal/sports.api'],
    });
    const refresh: Route = { path: `/instance/${PROVIDER}/sports/api/${taskId}`, body: { csr, attestationData }, mtls: true };
    const routes: Route[] = [
      { path: '/instance', body: registerBody, mtls: false },
      refresh,
      { path: '/rolecert', body: { csr: roleCsr, expiryTime: 60 }, mtls: true },
      { path: '/domain/sports/role/readers/token', body: { csr: roleCsr, expiryTime: 60 }, mtls: true },
      { path: '/svid', body: { csr }, mtls: true },
      { path: '/svid/jwt', body: { audience: ['https://api.example.com'] }, mtls: true },
    ];
    return { t, routes, refresh, identity: { cert: reg.body.x509Certificate, key }, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Certificates the CA key has signed so far, whether or not they reached the caller. */
const signedSoFar = (f: ZtsFuzzTarget) => ztsMetric(f.t, 'tessera_ca_signatures_total{what="certificate"}');

/** The attestation data is JSON in a string: one of its fields replaced, or the string itself. */
function withAttestationMutated(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const inner = JSON.parse(valid.attestationData as string) as Record<string, unknown>;
  const keys = [...Object.keys(inner), 'identityToken', 'document', 'signature'];
  return fc.tuple(fc.constantFrom(...keys), hostileValue).map(([key, value]) => ({ ...valid, attestationData: JSON.stringify({ ...inner, [key]: value }) }));
}

/** Runs the property `numRuns` times per route. */
export async function fuzzZtsBodies(f: ZtsFuzzTarget, numRuns: number, seed?: number): Promise<void> {
  for (const route of f.routes) {
    const bodies = 'attestationData' in route.body
      ? fc.oneof({ arbitrary: bodyFor(route.body, ['extra', 'expiryTime', 'hostname', 'athenzJWK']), weight: 2 }, { arbitrary: withAttestationMutated(route.body), weight: 1 })
      : bodyFor(route.body, ['extra', 'expiryTime', 'audience']);
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const signed = await signedSoFar(f);
        const started = Date.now();
        const res = await httpsJson<{ code?: unknown; message?: unknown; x509Certificate?: string }>({
          method: 'POST', url: `${f.t.server.ztsUrl}${route.path}`, ca: f.t.ca, body: JSON.stringify(body),
          headers: { 'content-type': 'application/json', 'user-agent': 'SIA-AWS fuzz' },
          ...(route.mtls ? f.identity : {}),
        });
        const what = `POST ${route.path} ${JSON.stringify(body).slice(0, 300)} → ${res.status} ${res.text.slice(0, 300)}`;
        assert.ok(res.status < 500, what);
        assert.ok(Date.now() - started < 30_000, `${what}: too slow`);
        if (res.status >= 400) {
          assert.equal(res.body.code, res.status, what);
          assert.equal(typeof res.body.message, 'string', what);
          assert.equal(await signedSoFar(f), signed, `${what}: a refused request had a certificate signed`);
        } else if (route.path.startsWith('/instance')) {
          // A register or refresh that went through replaced the certificate the instance holds.
          f.identity.cert = res.body.x509Certificate!;
        }
      }),
      { numRuns, ...(seed === undefined ? {} : { seed }) },
    );
  }
  await fuzzTokenForms(f, numRuns, seed);
  // Refusals changed nothing the instance relies on: its current certificate still refreshes.
  const res = await httpsJson({ method: 'POST', url: `${f.t.server.ztsUrl}${f.refresh.path}`, ca: f.t.ca, body: f.refresh.body, ...f.identity });
  assert.equal(res.status, 200, `a valid refresh after the fuzzing: ${res.status} ${res.text}`);
}

const TOKEN_FORM: [string, string][] = [['grant_type', 'client_credentials'], ['scope', 'sports:domain'], ['expires_in', '600']];
const TOKEN_PARAMS = [...TOKEN_FORM.map(([k]) => k), 'proxy_for_principal', 'role_in_aud_claim', 'authorization_details', 'id_token_hint'];
/** RFC 6749 section 5.2's error codes: the only ones a refusal may carry. */
const OAUTH_ERRORS = ['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope'];

/** A token request body: the valid form with one parameter replaced, added or repeated, or any text at all. */
const tokenForms: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(fc.constantFrom(...TOKEN_PARAMS), fc.oneof(hostileString, fc.constantFrom('sports:role.readers', 'sports:domain openid sports:service.api', 'client_credentials', '-1', '1e9')), fc.constantFrom('set', 'append')).map(([key, value, how]) => {
      const form = new URLSearchParams(TOKEN_FORM);
      form[how](key, value);
      return form.toString();
    }),
  },
  { weight: 1, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.constantFrom('grant_type=client_credentials&scope=%E0%A4%A', '&&&=', 'scope', '%00=%00', 'grant_type=client_credentials&scope=sports:domain'.repeat(1000)) },
);

/** The token endpoint under the same property: never a 5xx, RFC 6749 errors when refused, a token that verifies when issued. */
async function fuzzTokenForms(f: ZtsFuzzTarget, numRuns: number, seed?: number): Promise<void> {
  const keys = await httpsJson<JSONWebKeySet>({ url: `${f.t.server.ztsUrl}/oauth2/keys?rfc=true`, ca: f.t.ca });
  const jwks = createLocalJWKSet(keys.body);
  await fc.assert(
    fc.asyncProperty(tokenForms, fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain'), async (form, type) => {
      const started = Date.now();
      const res = await httpsJson<{ error?: unknown; error_description?: unknown; code?: unknown; access_token?: string }>({
        method: 'POST', url: `${f.t.server.ztsUrl}/oauth2/token`, ca: f.t.ca, body: form, headers: { 'content-type': type }, ...f.identity,
      });
      const what = `POST /oauth2/token (${type}) ${form.slice(0, 300)} → ${res.status} ${res.text.slice(0, 300)}`;
      assert.ok(res.status < 500, what);
      assert.ok(Date.now() - started < 30_000, `${what}: too slow`);
      assert.equal(res.headers['cache-control'], 'no-store', what);
      if (res.status >= 400) {
        assert.ok(OAUTH_ERRORS.includes(res.body.error as string), what);
        assert.equal(typeof res.body.error_description, 'string', what);
        assert.equal(res.body.code, res.status, what);
      } else {
        const { payload } = await jwtVerify(res.body.access_token ?? '', jwks);
        assert.equal(payload.sub, 'sports.api', what);
        assert.match(String(payload.aud), /^sports(:|$)/, what);
      }
    }),
    { numRuns, ...(seed === undefined ? {} : { seed }) },
  );
}
