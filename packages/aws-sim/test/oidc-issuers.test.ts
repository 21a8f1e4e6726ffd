/**
 * The simulator's OIDC issuers as a relying party sees them: per-cluster
 * discovery + JWKS over HTTP, projected tokens for the audience the pod spec
 * asks for, key rotation, IAM OIDC providers and STS GetWebIdentityToken
 * through the real SDK clients. Tokens are verified with jose, as ZTS does.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import {
  CreateOpenIDConnectProviderCommand,
  EnableOutboundWebIdentityFederationCommand,
  GetOpenIDConnectProviderCommand,
  GetOutboundWebIdentityFederationInfoCommand,
  ListOpenIDConnectProvidersCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetWebIdentityTokenCommand } from '@aws-sdk/client-sts';
import { awsTrustPolicy, podIdentityTrustPolicy } from '../src/policy-templates.ts';
import { issuerBaseUrl } from '../src/oidc.ts';
import { ACCOUNT, OTHER_ACCOUNT, createRole, iamClient, rejectsWith, startTestSim, stsClient, type TestSim } from './helpers.ts';

let t: TestSim;
const ZTS = 'https://zts.example.test:8443/zts/v1';

/** What a relying party does: the discovery document at the issuer's base, then its jwks_uri. */
async function verifyWithDiscovery(token: string, audience: string): Promise<JWTPayload> {
  const { iss } = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { iss: string };
  const res = await fetch(`${issuerBaseUrl(t.sim.url, iss)}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  const discovery = (await res.json()) as { issuer: string; jwks_uri: string };
  assert.equal(discovery.issuer, iss);
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(discovery.jwks_uri)), { issuer: iss, audience });
  return payload;
}

async function roleSession(account: string, name: string) {
  const iam = iamClient(t.sim, t.sim.rootCredentials(account));
  const user = t.sim.createAccessKey(account, { userName: `${name}-launcher` });
  await createRole(iam, name, awsTrustPolicy(user.arn), '/workloads/');
  const out = await stsClient(t.sim, user).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/workloads/${name}`, RoleSessionName: 'task-1' }));
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

before(async () => {
  t = await startTestSim();
  await createRole(iamClient(t.sim, t.sim.rootCredentials(ACCOUNT)), 'sports.pod', podIdentityTrustPolicy());
});
after(() => t.sim.close());

test('a pod asking for a ZTS-audience projected token gets it as a file named in its environment', async () => {
  const pod = await t.sim.launchEksPod({
    mode: 'pod-identity', role: 'sports.pod', account: ACCOUNT, cluster: 'blue', namespace: 'sports', serviceAccount: 'sports.api', tokenAudience: ZTS,
  });
  assert.equal(pod.env.TESSERA_SA_TOKEN_FILE, pod.saTokenFile);
  const token = readFileSync(pod.saTokenFile!, 'utf8');
  const claims = await verifyWithDiscovery(token, ZTS);
  assert.equal(claims.iss, pod.cluster.issuer);
  assert.equal(claims.sub, 'system:serviceaccount:sports:sports.api');
  assert.equal(claims.exp! - claims.iat!, 3600);
  const k8s = claims['kubernetes.io'] as { namespace: string; pod: { uid: string; name: string } };
  assert.deepEqual([k8s.namespace, k8s.pod.uid, k8s.pod.name], ['sports', pod.podUid, pod.podName]);
  // The Pod Identity token is still for AWS only.
  await assert.rejects(verifyWithDiscovery(readFileSync(pod.tokenFile, 'utf8'), ZTS), /aud/);
  // Without tokenAudience there is no such file; bad options are refused.
  const plain = await t.sim.launchEksPod({ mode: 'pod-identity', role: 'sports.pod', account: ACCOUNT, cluster: 'blue' });
  assert.equal(plain.env.TESSERA_SA_TOKEN_FILE, undefined);
  await assert.rejects(t.sim.launchEksPod({ mode: 'pod-identity', role: 'sports.pod', account: ACCOUNT, tokenAudience: ZTS, tokenExpirationSeconds: 30 }), /600 to 86400/);
});

test('each cluster signs with its own keys; rotation publishes the new key and keeps the previous one', async () => {
  const blue = await t.sim.launchEksPod({ mode: 'pod-identity', role: 'sports.pod', account: ACCOUNT, cluster: 'blue', tokenAudience: ZTS });
  const green = await t.sim.launchEksPod({ mode: 'pod-identity', role: 'sports.pod', account: ACCOUNT, cluster: 'green', tokenAudience: ZTS });
  const blueToken = readFileSync(blue.saTokenFile!, 'utf8');
  const greenJwks = createRemoteJWKSet(new URL(`${issuerBaseUrl(t.sim.url, green.cluster.issuer)}/keys`));
  await assert.rejects(jwtVerify(blueToken, greenJwks), /no applicable key|signature/i);

  const { kids } = t.sim.rotateClusterKeys({ account: ACCOUNT, cluster: 'blue' });
  const jwks = (await (await fetch(`${issuerBaseUrl(t.sim.url, blue.cluster.issuer)}/keys`)).json()) as { keys: { kid: string }[] };
  assert.equal(jwks.keys.length, 2);
  assert.equal(jwks.keys[0].kid, kids[0]);
  assert.ok(jwks.keys.some((k) => k.kid === decodeProtectedHeader(blueToken).kid), 'the previous key stays published');
  const rewritten = readFileSync(blue.saTokenFile!, 'utf8');
  assert.equal(decodeProtectedHeader(rewritten).kid, kids[0]);
  await verifyWithDiscovery(rewritten, ZTS);
  await verifyWithDiscovery(blueToken, ZTS);
  assert.equal((await fetch(`${t.sim.url}/oidc/oidc.eks.us-west-2.amazonaws.com/id/NOSUCH/keys`)).status, 404);
});

test('IAM OIDC providers through the SDK: create, list, get; role sessions may only read', async () => {
  const iam = iamClient(t.sim, t.sim.rootCredentials(OTHER_ACCOUNT));
  const url = 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789';
  const created = await iam.send(new CreateOpenIDConnectProviderCommand({ Url: url, ClientIDList: [ZTS] }));
  assert.equal(created.OpenIDConnectProviderArn, `arn:aws:iam::${OTHER_ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789`);
  await rejectsWith(iam.send(new CreateOpenIDConnectProviderCommand({ Url: url })), 'EntityAlreadyExistsException');
  await rejectsWith(iam.send(new CreateOpenIDConnectProviderCommand({ Url: 'http://plain.example' })), 'ValidationError');
  const got = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: created.OpenIDConnectProviderArn }));
  assert.equal(got.Url, 'oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789');
  assert.deepEqual(got.ClientIDList, [ZTS]);

  const session = iamClient(t.sim, await roleSession(OTHER_ACCOUNT, 'oidc-issuers-reader'));
  const listed = await session.send(new ListOpenIDConnectProvidersCommand({}));
  assert.deepEqual(listed.OpenIDConnectProviderList?.map((p) => p.Arn), [created.OpenIDConnectProviderArn]);
  await rejectsWith(session.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://x.example/id/1' })), 'AccessDenied');
  // Clusters register their issuer in their account, as eksctl does.
  const mine = await iam.send(new ListOpenIDConnectProvidersCommand({}));
  assert.ok(!mine.OpenIDConnectProviderList?.some((p) => p.Arn?.includes('/id/' + 'NOSUCH')));
});

test('GetWebIdentityToken: refused until the account enables it, then a JWT of the account issuer naming the role', async () => {
  const creds = await roleSession(ACCOUNT, 'sports.api');
  const sts = stsClient(t.sim, creds);
  await rejectsWith(sts.send(new GetWebIdentityTokenCommand({ Audience: [ZTS], SigningAlgorithm: 'ES384' })), 'OutboundWebIdentityFederationDisabledException');
  const iam = iamClient(t.sim, t.sim.rootCredentials(ACCOUNT));
  await rejectsWith(iam.send(new GetOutboundWebIdentityFederationInfoCommand({})), 'FeatureDisabledException');
  const { IssuerIdentifier: issuer } = await iam.send(new EnableOutboundWebIdentityFederationCommand({}));
  assert.match(issuer ?? '', /^https:\/\/[0-9a-f-]{36}\.tokens\.sts\.global\.api\.aws$/);
  await rejectsWith(iam.send(new EnableOutboundWebIdentityFederationCommand({})), 'FeatureEnabledException');
  assert.equal((await iam.send(new GetOutboundWebIdentityFederationInfoCommand({}))).IssuerIdentifier, issuer);
  t.sim.setOrganization(ACCOUNT, 'o-exampleorg01');

  for (const alg of ['ES384', 'RS256']) {
    const out = await sts.send(new GetWebIdentityTokenCommand({ Audience: [ZTS], SigningAlgorithm: alg, DurationSeconds: 120 }));
    assert.equal(decodeProtectedHeader(out.WebIdentityToken!).alg, alg);
    const claims = await verifyWithDiscovery(out.WebIdentityToken!, ZTS);
    assert.equal(claims.iss, issuer);
    assert.equal(claims.sub, `arn:aws:iam::${ACCOUNT}:role/workloads/sports.api`);
    assert.equal(claims.exp! - claims.iat!, 120);
    assert.ok(out.Expiration instanceof Date);
    const aws = claims['https://sts.amazonaws.com/'] as Record<string, string>;
    assert.equal(aws.aws_account, ACCOUNT);
    assert.equal(aws.org_id, 'o-exampleorg01');
    assert.match(aws.principal_id, new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/sports\\.api/task-1$`));
  }
  await rejectsWith(sts.send(new GetWebIdentityTokenCommand({ Audience: [ZTS], SigningAlgorithm: 'HS256' })), 'ValidationError');
  await rejectsWith(sts.send(new GetWebIdentityTokenCommand({ Audience: [ZTS], SigningAlgorithm: 'RS256', DurationSeconds: 7200 })), 'ValidationError');
});
