/**
 * Token attestation at unit level: the issuer key cache (discovery refusals,
 * rate-limited refetches, stale keys, token refusals), the EKS/AWS token
 * checks, and the account issuer registry against a fake STS/IAM on loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { IssuerKeyCache } from '../src/providers/aws/issuer-keys.ts';
import { tokenMethod, verifyAwsToken, verifyEksToken, type TokenRequest, type TokenSettings } from '../src/providers/aws/token-attestation.ts';
import { accountIssuers } from '../src/providers/aws/account-issuers.ts';
import type { AwsCall, AwsCallReason } from '../src/providers/aws/aws-calls.ts';
import { ProviderError } from '../src/providers/instance-provider.ts';

const ISSUER = 'https://oidc.eks.us-west-2.amazonaws.com/id/UNITISSUER01';
const AWS_ISSUER = 'https://0a1b2c3d-0000-4000-8000-0123456789ab.tokens.sts.global.api.aws';
const JWKS_URI = 'https://keys.example.test/jwks';
const AUD = 'https://zts.test';
const ACCOUNT = '123456789012';

const refused = (message: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ProviderError, `not a ProviderError: ${String(e)}`);
  assert.equal(e.status, 403);
  assert.match(e.message, message);
  return true;
};

let key: CryptoKey;
let jwk: JWK;
let otherKey: CryptoKey;
let otherJwk: JWK;

before(async () => {
  const a = await generateKeyPair('ES256');
  key = a.privateKey;
  jwk = { ...(await exportJWK(a.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const b = await generateKeyPair('ES256');
  otherKey = b.privateKey;
  otherJwk = { ...(await exportJWK(b.publicKey)), kid: 'k2', alg: 'ES256', use: 'sig' };
});

/** An issuer's documents served by an injected fetch; every answer is editable and every URL asked is recorded. */
function fakeIssuer(issuer = ISSUER) {
  const docs = new Map<string, { status: number; body: string }>();
  const asked: string[] = [];
  const state = { docs, asked, gate: undefined as Promise<void> | undefined };
  const set = (url: string, body: unknown, status = 200) => docs.set(url, { status, body: typeof body === 'string' ? body : JSON.stringify(body) });
  set(`${issuer}/.well-known/openid-configuration`, { issuer, jwks_uri: JWKS_URI });
  set(JWKS_URI, { keys: [jwk] });
  const fetchFn = (async (input: string | URL | Request) => {
    const url = String(input);
    asked.push(url);
    if (state.gate) await state.gate;
    const d = docs.get(url);
    if (!d) throw new Error(`unexpected fetch of ${url}`);
    return new Response(d.body, { status: d.status });
  }) as typeof fetch;
  return { ...state, state, set, fetchFn };
}

function cache(f: ReturnType<typeof fakeIssuer>, clock: { ms: number }, o: { discoveryEndpoint?: string } = {}) {
  const calls: Array<[AwsCall, AwsCallReason]> = [];
  const c = new IssuerKeyCache({
    discoveryEndpoint: o.discoveryEndpoint, minRefetchMs: 60_000, maxAgeMs: 3_600_000, timeoutMs: 5_000,
    now: () => new Date(clock.ms), count: (call, reason) => calls.push([call, reason]), fetch: f.fetchFn,
  });
  return { c, calls };
}

function sign(claims: JWTPayload, o: { kid?: string | null; key?: CryptoKey; iat?: number | null; nowMs?: number } = {}): Promise<string> {
  const now = Math.floor((o.nowMs ?? Date.now()) / 1000);
  const base: JWTPayload = { iss: ISSUER, aud: AUD, exp: now + 600, ...(o.iat === null ? {} : { iat: o.iat ?? now }) };
  const header: { alg: string; kid?: string } = { alg: 'ES256' };
  if (o.kid !== null) header.kid = o.kid ?? 'k1';
  return new SignJWT({ ...base, ...claims }).setProtectedHeader(header).sign(o.key ?? key);
}

const opts = { audience: AUD, clockToleranceSeconds: 30 };

describe('IssuerKeyCache', () => {
  test('a discovery endpoint rewrites the issuer URL (trailing slashes dropped); keys are then cached', async () => {
    const f = fakeIssuer();
    f.docs.clear();
    f.set('http://127.0.0.1:9/oidc.eks.us-west-2.amazonaws.com/id/UNITISSUER01/.well-known/openid-configuration', { issuer: ISSUER, jwks_uri: JWKS_URI });
    f.set(JWKS_URI, { keys: [jwk] });
    const clock = { ms: Date.now() };
    const { c, calls } = cache(f, clock, { discoveryEndpoint: 'http://127.0.0.1:9//' });
    assert.equal((await c.verify(await sign({ sub: 'a' }), ISSUER, opts)).sub, 'a');
    assert.equal((await c.verify(await sign({ sub: 'b' }), ISSUER, opts)).sub, 'b');
    assert.deepEqual(calls, [['oidc:discovery', 'issuer-first-use'], ['oidc:jwks', 'issuer-first-use']]);
  });

  test('an issuer URL with a trailing slash is fetched without a doubled slash', async () => {
    const f = fakeIssuer(`${ISSUER}/`);
    f.docs.clear();
    f.set(`${ISSUER}/.well-known/openid-configuration`, { issuer: `${ISSUER}/`, jwks_uri: JWKS_URI });
    f.set(JWKS_URI, { keys: [jwk] });
    const { c } = cache(f, { ms: Date.now() });
    const payload = await c.verify(await sign({ iss: `${ISSUER}/`, sub: 'x' }), `${ISSUER}/`, opts);
    assert.equal(payload.sub, 'x');
    assert.equal(f.asked[0], `${ISSUER}/.well-known/openid-configuration`);
  });

  for (const [name, prepare, message] of [
    ['a discovery answer that is not 200', (f: ReturnType<typeof fakeIssuer>) => f.set(`${ISSUER}/.well-known/openid-configuration`, 'gone', 404), /answered HTTP 404\) and none are cached; try again later/],
    ['an oversized discovery document', (f: ReturnType<typeof fakeIssuer>) => f.set(`${ISSUER}/.well-known/openid-configuration`, 'x'.repeat(256 * 1024 + 1)), /answered more than 262144 bytes/],
    ['a discovery document naming another issuer', (f: ReturnType<typeof fakeIssuer>) => f.set(`${ISSUER}/.well-known/openid-configuration`, { issuer: 'https://evil.test', jwks_uri: JWKS_URI }), /its discovery document names issuer https:\/\/evil\.test/],
    ['a discovery document without jwks_uri', (f: ReturnType<typeof fakeIssuer>) => f.set(`${ISSUER}/.well-known/openid-configuration`, { issuer: ISSUER }), /its discovery document has no jwks_uri/],
    ['a JWKS without keys', (f: ReturnType<typeof fakeIssuer>) => f.set(JWKS_URI, { nokeys: true }), /its JWKS has no keys/],
    ['a JWKS that is JSON null', (f: ReturnType<typeof fakeIssuer>) => f.set(JWKS_URI, 'null'), /its JWKS has no keys/],
  ] as const) {
    test(`${name} is refused with the reason, and not refetched within minRefetchMs`, async () => {
      const f = fakeIssuer();
      prepare(f);
      const clock = { ms: Date.now() };
      const { c } = cache(f, clock);
      const token = await sign({});
      await assert.rejects(c.verify(token, ISSUER, opts), refused(message));
      const asked = f.asked.length;
      // A failed fetch is not retried within minRefetchMs: same refusal, no new request.
      clock.ms += 30_000;
      await assert.rejects(c.verify(token, ISSUER, opts), refused(message));
      assert.equal(f.asked.length, asked);
      // After minRefetchMs it is retried, and succeeds once the issuer is fixed.
      const fixed = fakeIssuer();
      for (const [u, d] of fixed.docs) f.docs.set(u, d);
      clock.ms += 31_000;
      const fresh = await sign({ sub: 'ok' }, { nowMs: clock.ms });
      assert.equal((await c.verify(fresh, ISSUER, opts)).sub, 'ok');
      assert.ok(f.asked.length > asked);
    });
  }

  test('an issuer that does not answer in time, or refuses the connection, is named in the refusal', async () => {
    const token = await sign({});
    const hang = (async (_u: string | URL | Request, init?: RequestInit) => {
      const signal = init!.signal!;
      // AbortSignal.timeout's timer does not hold the event loop open; this interval does until the abort.
      const alive = setInterval(() => {}, 1000);
      await new Promise((_, reject) => signal.addEventListener('abort', () => {
        clearInterval(alive);
        reject(signal.reason as Error);
      }));
      throw new Error('unreachable');
    }) as typeof fetch;
    const slow = new IssuerKeyCache({ minRefetchMs: 60_000, maxAgeMs: 3_600_000, timeoutMs: 20, now: () => new Date(), count: () => {}, fetch: hang });
    await assert.rejects(slow.verify(token, ISSUER, opts), refused(/signing keys of issuer .* \(no answer within 20 ms\) and none are cached/));
    const refusing = (async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    }) as typeof fetch;
    const down = new IssuerKeyCache({ minRefetchMs: 60_000, maxAgeMs: 3_600_000, timeoutMs: 5_000, now: () => new Date(), count: () => {}, fetch: refusing });
    await assert.rejects(down.verify(token, ISSUER, opts), refused(/\(connect ECONNREFUSED 127\.0\.0\.1:9\) and none are cached/));
  });

  test('concurrent first uses share one fetch', async () => {
    const f = fakeIssuer();
    let open!: () => void;
    f.state.gate = new Promise<void>((r) => (open = r));
    const { c, calls } = cache(f, { ms: Date.now() });
    const token = await sign({ sub: 's' });
    const both = Promise.all([c.verify(token, ISSUER, opts), c.verify(token, ISSUER, opts)]);
    // Wait for the shared fetch to have started before letting it answer.
    while (f.asked.length === 0) await new Promise((r) => setImmediate(r));
    open();
    const [a, b] = await both;
    assert.equal(a.sub, 's');
    assert.equal(b.sub, 's');
    assert.deepEqual(calls.map(([call]) => call), ['oidc:discovery', 'oidc:jwks']);
  });

  test('stale keys are refetched; a failed refetch keeps the cached keys in use', async () => {
    const f = fakeIssuer();
    const clock = { ms: Date.now() };
    const { c, calls } = cache(f, clock);
    await c.verify(await sign({}), ISSUER, opts);
    clock.ms += 3_600_001;
    // The issuer is now down; the old keys still verify a token signed with them.
    f.set(`${ISSUER}/.well-known/openid-configuration`, 'down', 503);
    const payload = await c.verify(await sign({ sub: 'still' }, { nowMs: clock.ms }), ISSUER, opts);
    assert.equal(payload.sub, 'still');
    assert.deepEqual(calls.at(-1), ['oidc:discovery', 'issuer-keys-stale']);
  });

  test('an unknown kid refetches once (rotation picked up), then is rate-limited', async () => {
    const f = fakeIssuer();
    const clock = { ms: Date.now() };
    const { c, calls } = cache(f, clock);
    await c.verify(await sign({}), ISSUER, opts);
    // Rotation: k2 published; a k2 token refetches and verifies.
    f.set(JWKS_URI, { keys: [jwk, otherJwk] });
    assert.equal((await c.verify(await sign({ sub: 'rot' }, { kid: 'k2', key: otherKey }), ISSUER, opts)).sub, 'rot');
    assert.deepEqual(calls.at(-1), ['oidc:jwks', 'unknown-kid']);
    // Another unknown kid within minRefetchMs: refused without a fetch.
    const n = f.asked.length;
    await assert.rejects(c.verify(await sign({}, { kid: 'k3' }), ISSUER, opts),
      refused(/token key id k3 \(ES256\) is not among the keys of issuer .* less than 60 s ago/));
    assert.equal(f.asked.length, n);
  });

  test('an unknown kid still unknown after the refetch is refused; a failed refetch is named', async () => {
    const f = fakeIssuer();
    const clock = { ms: Date.now() };
    const { c } = cache(f, clock);
    await c.verify(await sign({}), ISSUER, opts);
    await assert.rejects(c.verify(await sign({}, { kid: 'k9' }), ISSUER, opts), (e: unknown) => {
      refused(/token key id k9 \(ES256\) is not among the keys of issuer/)(e);
      assert.doesNotMatch((e as Error).message, /refetch failed/);
      return true;
    });
    clock.ms += 60_001;
    f.set(JWKS_URI, 'no', 500);
    await assert.rejects(c.verify(await sign({}, { kid: 'k9', nowMs: clock.ms }), ISSUER, opts),
      refused(/token key id k9 \(ES256\) is not among the keys of issuer .* \(refetch failed: https:\/\/keys\.example\.test\/jwks answered HTTP 500\)/));
  });

  test('a token without kid matching no key names "(none)"', async () => {
    const f = fakeIssuer();
    const { c } = cache(f, { ms: Date.now() });
    // Only an RSA key published: a kid-less ES256 token matches none.
    const rsa = await generateKeyPair('RS256');
    f.set(JWKS_URI, { keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'r1', alg: 'RS256' }] });
    await assert.rejects(c.verify(await sign({}, { kid: null }), ISSUER, opts), refused(/token key id \(none\) \(ES256\) is not among the keys/));
  });

  test('an issuer that publishes an unusable key (EC point off the curve) is refused by name, not a 500', async () => {
    const f = fakeIssuer();
    const { c } = cache(f, { ms: Date.now() });
    f.set(JWKS_URI, { keys: [{ ...jwk, x: jwk.y, y: jwk.x }] });
    await assert.rejects(c.verify(await sign({}), ISSUER, opts), refused(new RegExp(`issuer ${ISSUER.replace(/[.]/g, '\\.')} publishes a key that cannot be used`)));
  });

  test('after a refetch for a rotated kid, the token is still checked: a bad claim is refused as such', async () => {
    const f = fakeIssuer();
    const clock = { ms: Date.now() };
    const { c } = cache(f, clock);
    await c.verify(await sign({}), ISSUER, opts);
    f.set(JWKS_URI, { keys: [jwk, otherJwk] });
    await assert.rejects(c.verify(await sign({ aud: 'someone-else' }, { kid: 'k2', key: otherKey }), ISSUER, opts),
      refused(/token audience "someone-else" is not ZTS's/));
  });

  test('claim and format refusals', async () => {
    const f = fakeIssuer();
    const clock = { ms: Date.now() };
    const { c } = cache(f, clock);
    await assert.rejects(c.verify(await sign({}, { iat: null }), ISSUER, opts), refused(/token claim iat is not valid: missing required "iat" claim/));
    await assert.rejects(c.verify(await sign({}, { iat: Math.floor(clock.ms / 1000) - 3 * 86400 }), ISSUER, opts), refused(/^token expired \(exp \d+\)/));
    await assert.rejects(c.verify(await sign({ iss: 'https://other.test' }), ISSUER, opts), refused(/token claim iss is not valid/));
    await assert.rejects(c.verify('not.a-jwt.at-all', ISSUER, opts), refused(/^token refused: /));
  });
});

// ---- EKS and AWS tokens -----------------------------------------------------

function settings(f: ReturnType<typeof fakeIssuer>, o: { registered?: boolean; orgs?: string[] } = {}): TokenSettings {
  const { c } = cache(f, { ms: Date.now() });
  return { keys: c, issuers: async () => o.registered ?? true, audience: () => AUD, clockToleranceSeconds: 30, orgAllowList: o.orgs ?? [] };
}

const eksReq = (o: Partial<TokenRequest> = {}): TokenRequest => ({ domain: 'sports', service: 'api', accounts: [ACCOUNT], instanceId: 'pod-1', sanUris: [], ...o });
const podClaims = (k8s: unknown): JWTPayload => ({ sub: 'system:serviceaccount:sports:sports.api', 'kubernetes.io': k8s as JWTPayload[string] });

describe('tokenMethod', () => {
  test('a token without a payload segment, or not base64 JSON, is not a JWT', () => {
    assert.throws(() => tokenMethod('onlyheader'), refused(/^identity token is not a JWT$/));
    assert.throws(() => tokenMethod('a.!!!notjson.c'), refused(/^identity token is not a JWT$/));
  });

  test('a token without iss names null; a non-string iss is shown as JSON', () => {
    const enc = (p: unknown) => `e30.${Buffer.from(JSON.stringify(p)).toString('base64url')}.sig`;
    assert.throws(() => tokenMethod(enc({})), refused(/^unknown token issuer null: ZTS accepts EKS/));
    assert.throws(() => tokenMethod(enc({ iss: 7 })), refused(/^unknown token issuer 7:/));
    assert.deepEqual(tokenMethod(enc({ iss: AWS_ISSUER })), { method: 'aws-token', issuer: AWS_ISSUER });
  });
});

describe('verifyEksToken', () => {
  test('a subject that is missing or not a service account is refused', async () => {
    const s = settings(fakeIssuer());
    await assert.rejects(verifyEksToken(await sign({}), ISSUER, eksReq(), s), refused(/^token subject undefined is not a Kubernetes service account$/));
    await assert.rejects(verifyEksToken(await sign({ sub: 'alice' }), ISSUER, eksReq(), s), refused(/^token subject alice is not a Kubernetes service account$/));
  });

  test('a token without kubernetes.io claims, or without a pod uid, is not bound to a pod', async () => {
    const s = settings(fakeIssuer());
    await assert.rejects(verifyEksToken(await sign({ sub: 'system:serviceaccount:sports:sports.api' }), ISSUER, eksReq(), s), refused(/not bound to a pod/));
    await assert.rejects(verifyEksToken(await sign(podClaims({ pod: { name: 'pod-1', uid: 5 } })), ISSUER, eksReq(), s), refused(/not bound to a pod/));
  });

  test('a kubernetes.io namespace that disagrees with the subject is refused', async () => {
    const s = settings(fakeIssuer());
    await assert.rejects(verifyEksToken(await sign(podClaims({ namespace: 'other', pod: { name: 'pod-1', uid: 'u1' } })), ISSUER, eksReq(), s),
      refused(/^token namespace claims disagree$/));
  });

  test('the instance id may be the pod uid or name; another id is refused, naming "?" when the pod has no name', async () => {
    const s = settings(fakeIssuer());
    const named = await sign(podClaims({ namespace: 'sports', pod: { name: 'pod-1', uid: 'u1' } }));
    assert.equal(await verifyEksToken(named, ISSUER, eksReq({ instanceId: 'u1' }), s), `${ISSUER}#system:serviceaccount:sports:sports.api`);
    assert.equal(await verifyEksToken(named, ISSUER, eksReq({ instanceId: 'pod-1' }), s), `${ISSUER}#system:serviceaccount:sports:sports.api`);
    await assert.rejects(verifyEksToken(named, ISSUER, eksReq({ instanceId: 'pod-2' }), s), refused(/instance id pod-2 is not the pod this token was issued to \(pod-1, uid u1\)/));
    const unnamed = await sign(podClaims({ pod: { uid: 'u1' } }));
    await assert.rejects(verifyEksToken(unnamed, ISSUER, eksReq({ instanceId: 'pod-2' }), s), refused(/issued to \(\?, uid u1\)/));
  });

  test('a SPIFFE URI namespace must be the token\'s; non-namespaced URIs are not compared', async () => {
    const s = settings(fakeIssuer());
    const token = await sign(podClaims({ namespace: 'sports', pod: { name: 'pod-1', uid: 'u1' } }));
    const ok = ['spiffe://sports/ns/sports/sa/sports.api', 'athenz://instanceid/athenz.aws/pod-1', 'spiffe://sports/sa/api'];
    assert.match(await verifyEksToken(token, ISSUER, eksReq({ sanUris: ok }), s), /#system:serviceaccount:sports:sports\.api$/);
    await assert.rejects(verifyEksToken(token, ISSUER, eksReq({ sanUris: ['spiffe://sports/ns/prod/sa/sports.api'] }), s),
      refused(/^SPIFFE URI namespace prod does not match the token's namespace sports$/));
  });
});

describe('verifyAwsToken', () => {
  function awsIssuer() {
    const f = fakeIssuer(AWS_ISSUER);
    return f;
  }
  const awsSign = (claims: JWTPayload) => sign({ iss: AWS_ISSUER, ...claims });
  const role = `arn:aws:iam::${ACCOUNT}:role/sports.api`;

  test('an org allow-list refuses a token without org_id, naming "(none)"; an allowed org passes', async () => {
    const s = settings(awsIssuer(), { orgs: ['o-good'] });
    await assert.rejects(verifyAwsToken(await awsSign({ sub: role }), AWS_ISSUER, eksReq(), s), refused(/^token organization \(none\) is not allowed \(allowed: o-good\)$/));
    await assert.rejects(verifyAwsToken(await awsSign({ sub: role, 'https://sts.amazonaws.com/': { org_id: 'o-bad', aws_account: ACCOUNT } }), AWS_ISSUER, eksReq(), s),
      refused(/^token organization o-bad is not allowed/));
    assert.equal(await verifyAwsToken(await awsSign({ sub: role, 'https://sts.amazonaws.com/': { org_id: 'o-good', aws_account: ACCOUNT } }), AWS_ISSUER, eksReq(), s), role);
  });

  test('a token without an account, or of another account, is refused', async () => {
    const s = settings(awsIssuer());
    await assert.rejects(verifyAwsToken(await awsSign({ sub: role }), AWS_ISSUER, eksReq(), s), refused(/^token account \(none\) is not an AWS account of domain sports \(123456789012\)$/));
    await assert.rejects(verifyAwsToken(await awsSign({ sub: role, 'https://sts.amazonaws.com/': { aws_account: '210987654321' } }), AWS_ISSUER, eksReq(), s),
      refused(/^token account 210987654321 is not an AWS account of domain sports/));
  });

  test('the subject must be the service\'s role (full or short name, any path) of the token\'s account', async () => {
    const s = settings(awsIssuer());
    const claims = { 'https://sts.amazonaws.com/': { aws_account: ACCOUNT } };
    assert.equal(await verifyAwsToken(await awsSign({ ...claims, sub: `arn:aws:iam::${ACCOUNT}:role/team/api` }), AWS_ISSUER, eksReq(), s), `arn:aws:iam::${ACCOUNT}:role/team/api`);
    for (const sub of [undefined, `arn:aws:iam::210987654321:role/sports.api`, `arn:aws:iam::${ACCOUNT}:role/sports.db`]) {
      await assert.rejects(verifyAwsToken(await awsSign({ ...claims, sub }), AWS_ISSUER, eksReq(), s),
        refused(new RegExp(`^token subject ${String(sub).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not the role sports\\.api of account ${ACCOUNT}`)));
    }
  });
});

// ---- account issuers against a fake STS/IAM ----------------------------------

describe('accountIssuers', () => {
  let server: Server;
  let endpoint = '';
  let requests: string[] = [];
  let stsFails = false;
  let iamBody = '';
  let gate: Promise<void> | undefined;

  const iamList = (arns: Array<string | null>) =>
    '<ListOpenIDConnectProvidersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListOpenIDConnectProvidersResult><OpenIDConnectProviderList>' +
    arns.map((a) => (a === null ? '<member></member>' : `<member><Arn>${a}</Arn></member>`)).join('') +
    '</OpenIDConnectProviderList></ListOpenIDConnectProvidersResult></ListOpenIDConnectProvidersResponse>';

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', async () => {
        const action = /Action=(\w+)/.exec(body)?.[1] ?? '?';
        requests.push(action);
        if (gate) await gate;
        res.setHeader('content-type', 'text/xml');
        if (action === 'AssumeRole') {
          if (stsFails) {
            res.statusCode = 403;
            res.end('<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed to assume</Message></Error><RequestId>r</RequestId></ErrorResponse>');
            return;
          }
          res.end('<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIATEST</AccessKeyId>' +
            '<SecretAccessKey>secret</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>' +
            '<AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn><AssumedRoleId>X:s</AssumedRoleId></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>');
          return;
        }
        res.end(iamBody);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  function registry(clock: { ms: number }) {
    requests = [];
    stsFails = false;
    gate = undefined;
    return accountIssuers({
      region: 'us-west-2', stsEndpoint: endpoint, iamEndpoint: endpoint, credentials: { accessKeyId: 'AKIAZTS', secretAccessKey: 'zts' },
      readerRole: 'oidc-issuers-reader', maxAgeMs: 3_600_000, minRefetchMs: 60_000, timeoutMs: 5_000, now: () => new Date(clock.ms), count: () => {},
    });
  }

  test('only providers of the account are trusted; ARN-less entries and other accounts\' ARNs are ignored', async () => {
    const clock = { ms: Date.now() };
    const issuers = registry(clock);
    const host = ISSUER.replace('https://', '');
    iamBody = iamList([null, `arn:aws:iam::210987654321:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/OTHER`, `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`]);
    assert.equal(await issuers(ACCOUNT, ISSUER), true);
    assert.equal(await issuers(ACCOUNT, 'https://oidc.eks.us-west-2.amazonaws.com/id/OTHER'), false);
    // The miss was within minRefetchMs of the first read: no second read.
    assert.deepEqual(requests, ['AssumeRole', 'ListOpenIDConnectProviders']);
  });

  test('an answer without a provider list trusts nothing', async () => {
    const clock = { ms: Date.now() };
    const issuers = registry(clock);
    iamBody = '<ListOpenIDConnectProvidersResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListOpenIDConnectProvidersResult></ListOpenIDConnectProvidersResult></ListOpenIDConnectProvidersResponse>';
    assert.equal(await issuers(ACCOUNT, ISSUER), false);
  });

  test('a reader role ZTS may not assume is refused with the error and what the account needs; cached lists outlive it', async () => {
    const clock = { ms: Date.now() };
    const issuers = registry(clock);
    stsFails = true;
    await assert.rejects(issuers(ACCOUNT, ISSUER),
      refused(/^unable to read the IAM OIDC providers of account 123456789012 \(AccessDenied: not allowed to assume\); the account needs a role oidc-issuers-reader/));
    // Not retried within minRefetchMs.
    const n = requests.length;
    await assert.rejects(issuers(ACCOUNT, ISSUER), refused(/AccessDenied/));
    assert.equal(requests.length, n);
    // Once it works, the list is cached; a later failure keeps the cached list in use.
    stsFails = false;
    iamBody = iamList([`arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER.replace('https://', '')}`]);
    clock.ms += 60_001;
    assert.equal(await issuers(ACCOUNT, ISSUER), true);
    stsFails = true;
    clock.ms += 3_600_001;
    assert.equal(await issuers(ACCOUNT, ISSUER), true);
  });

  test('concurrent lookups of one account share one read', async () => {
    const clock = { ms: Date.now() };
    const issuers = registry(clock);
    iamBody = iamList([`arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER.replace('https://', '')}`]);
    let open!: () => void;
    gate = new Promise<void>((r) => (open = r));
    const both = Promise.all([issuers(ACCOUNT, ISSUER), issuers(ACCOUNT, ISSUER)]);
    while (requests.length === 0) await new Promise((r) => setImmediate(r));
    open();
    assert.deepEqual(await both, [true, true]);
    assert.deepEqual(requests, ['AssumeRole', 'ListOpenIDConnectProviders']);
  });
});
