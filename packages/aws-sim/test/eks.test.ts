/** EKS pods: Pod Identity and IRSA both yield the pod role through the SDK's own providers. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromHttp, fromNodeProviderChain, fromTokenFile } from '@aws-sdk/credential-providers';
import { awsTrustPolicy, podIdentityTrustPolicy, serviceTrustPolicy, webIdentityTrustPolicy } from '../src/policy-templates.ts';
import { ACCOUNT, OTHER_ACCOUNT, createRole, iamClient, rejectsWith, startTestSim, stsClient, withAwsEnv, type TestSim } from './helpers.ts';

let t: TestSim;
const podRoleArn = `arn:aws:iam::${ACCOUNT}:role/sports.api-service`;
const irsaRoleArn = `arn:aws:iam::${ACCOUNT}:role/sports.web-service`;

before(async () => {
  t = await startTestSim();
  const iam = iamClient(t.sim, t.sim.rootCredentials(ACCOUNT));
  const cluster = t.sim.eksCluster({ account: ACCOUNT, cluster: 'sports' });
  await createRole(iam, 'sports.api-service', podIdentityTrustPolicy());
  await createRole(iam, 'sports.web-service', webIdentityTrustPolicy(cluster.oidcProviderArn, { namespace: 'sports', name: 'web' }));
  await createRole(iam, 'sports.api', awsTrustPolicy([podRoleArn, irsaRoleArn]));
  await createRole(iam, 'assume.only', serviceTrustPolicy('pods.eks.amazonaws.com'));
});
after(() => t.sim.close());

test('the cluster has an EKS-style issuer registered as an IAM OIDC provider', async () => {
  const c = t.sim.eksCluster({ account: ACCOUNT, cluster: 'sports' });
  assert.match(c.issuer, /^https:\/\/oidc\.eks\.us-west-2\.amazonaws\.com\/id\/[0-9A-F]{32}$/);
  assert.equal(c.oidcProviderArn, `arn:aws:iam::${ACCOUNT}:oidc-provider/${c.issuer.slice(8)}`);
  const id = c.issuer.split('/').pop();
  const discovery = (await (await fetch(`${t.sim.url}/oidc/id/${id}/.well-known/openid-configuration`)).json()) as Record<string, string>;
  assert.equal(discovery.issuer, c.issuer);
  const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: { kty: string }[] };
  assert.equal(jwks.keys[0].kty, 'RSA');
});

test('Pod Identity: the default chain and fromHttp yield the pod role', async () => {
  const pod = await t.sim.launchEksPod({ mode: 'pod-identity', role: podRoleArn, cluster: 'sports', namespace: 'sports', serviceAccount: 'api' });
  assert.equal(pod.env.HOSTNAME, pod.podName);
  assert.match(pod.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, /^http:\/\/127\.0\.0\.1:\d+\/v1\/credentials$/);
  assert.equal(pod.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, pod.tokenFile);
  const who = await withAwsEnv(pod.env, () =>
    new STSClient({ credentials: fromNodeProviderChain() }).send(new GetCallerIdentityCommand({})),
  );
  assert.match(who.Arn ?? '', new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/sports\\.api-service/eks-sports-${pod.podName}`));
  const creds = await fromHttp({
    awsContainerCredentialsFullUri: pod.env.AWS_CONTAINER_CREDENTIALS_FULL_URI,
    awsContainerAuthorizationTokenFile: pod.tokenFile,
  })();
  // The pod role is trusted by sports.api, as in the Athenz EKS guide.
  const out = await stsClient(t.sim, creds).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/sports.api`, RoleSessionName: 'sports.api' }));
  assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/sports.api/sports.api`);
});

test('Pod Identity refuses a missing or forged token, and roles not trusting pods.eks with TagSession', async () => {
  const pod = await t.sim.launchEksPod({ mode: 'pod-identity', role: podRoleArn, cluster: 'sports' });
  const url = pod.env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  assert.equal((await fetch(url)).status, 400);
  const token = readFileSync(pod.tokenFile, 'utf8');
  const forged = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  assert.equal((await fetch(url, { headers: { authorization: forged } })).status, 401);
  assert.equal((await fetch(url, { headers: { authorization: token } })).status, 200);
  await assert.rejects(t.sim.launchEksPod({ mode: 'pod-identity', role: 'assume.only', account: ACCOUNT }), { code: 'AccessDenied' });
});

test('IRSA: fromTokenFile and the default chain yield the pod role', async () => {
  const pod = await t.sim.launchEksPod({ mode: 'irsa', role: irsaRoleArn, cluster: 'sports', namespace: 'sports', serviceAccount: 'web', podName: 'web-7d4b9-x2x9q' });
  assert.equal(pod.env.HOSTNAME, 'web-7d4b9-x2x9q');
  assert.equal(pod.env.AWS_ROLE_ARN, irsaRoleArn);
  const creds = await fromTokenFile({
    webIdentityTokenFile: pod.env.AWS_WEB_IDENTITY_TOKEN_FILE,
    roleArn: pod.env.AWS_ROLE_ARN,
    roleSessionName: 'web-pod',
    clientConfig: { region: pod.region, endpoint: t.sim.url },
  })();
  const who = await stsClient(t.sim, creds).send(new GetCallerIdentityCommand({}));
  assert.equal(who.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/sports.web-service/web-pod`);
  const viaChain = await withAwsEnv(pod.env, () =>
    new STSClient({ credentials: fromNodeProviderChain() }).send(new GetCallerIdentityCommand({})),
  );
  assert.match(viaChain.Arn ?? '', new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/sports\\.web-service/`));
  const out = await stsClient(t.sim, creds).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/sports.api`, RoleSessionName: 'sports.api' }));
  assert.equal(out.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/sports.api/sports.api`);
});

test('IRSA: the trust policy condition on the service account is enforced', async () => {
  const pod = await t.sim.launchEksPod({ mode: 'irsa', role: irsaRoleArn, cluster: 'sports', namespace: 'sports', serviceAccount: 'other' });
  const provider = fromTokenFile({
    webIdentityTokenFile: pod.tokenFile,
    roleArn: irsaRoleArn,
    roleSessionName: 'other-pod',
    clientConfig: { region: pod.region, endpoint: t.sim.url },
  });
  await rejectsWith(provider(), 'AccessDenied', /AssumeRoleWithWebIdentity/);
});

test('IRSA: forged, foreign and expired tokens are refused', async () => {
  const pod = await t.sim.launchEksPod({ mode: 'irsa', role: irsaRoleArn, cluster: 'sports', namespace: 'sports', serviceAccount: 'web' });
  const assume = () =>
    fromTokenFile({
      webIdentityTokenFile: pod.tokenFile,
      roleArn: irsaRoleArn,
      roleSessionName: 'web',
      clientConfig: { region: pod.region, endpoint: t.sim.url },
    })();
  const good = readFileSync(pod.tokenFile, 'utf8');
  const [h, p, s] = good.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  writeFileSync(pod.tokenFile, [h, Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:sports:admin' })).toString('base64url'), s].join('.'));
  await rejectsWith(assume(), 'InvalidIdentityTokenException');
  writeFileSync(pod.tokenFile, 'not-a-jwt');
  await rejectsWith(assume(), 'InvalidIdentityTokenException');
  writeFileSync(pod.tokenFile, good);
  // A token from another account's cluster: its issuer is not an OIDC provider of this role's account.
  const otherIam = iamClient(t.sim, t.sim.rootCredentials(OTHER_ACCOUNT));
  const otherCluster = t.sim.eksCluster({ account: OTHER_ACCOUNT, cluster: 'elsewhere' });
  const otherRole = await createRole(otherIam, 'other.web-service', webIdentityTrustPolicy(otherCluster.oidcProviderArn));
  const foreign = await t.sim.launchEksPod({ mode: 'irsa', role: otherRole, cluster: 'elsewhere' });
  await rejectsWith(
    fromTokenFile({
      webIdentityTokenFile: foreign.tokenFile,
      roleArn: irsaRoleArn,
      roleSessionName: 'web',
      clientConfig: { region: pod.region, endpoint: t.sim.url },
    })(),
    'InvalidIdentityTokenException',
    /No OpenIDConnect provider/,
  );
  t.advance(86400_000 + 1000);
  try {
    await rejectsWith(assume(), 'ExpiredTokenException');
    t.sim.refreshPodTokens();
    const fresh = await assume();
    assert.match(fresh.accessKeyId, /^ASIA/);
  } finally {
    t.advance(-(86400_000 + 1000));
    t.sim.refreshPodTokens();
  }
});
