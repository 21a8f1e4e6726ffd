/** Configuration: sia_config, then ATHENZ_SIA_* variables, then the role name; and what each source may say. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, type ConfigInputs, type WorkloadRole } from '../src/config/types.ts';
import { identityFromRoleName, parseIamRoleArn } from '../src/config/iam-names.ts';
import { resolveConfig } from '../src/config/resolve.ts';

const ROLE: WorkloadRole = { name: 'sports.api-service', account: '123456789012', arn: 'arn:aws:iam::123456789012:role/sports.api-service' };

/** `asked` counts role lookups, `accountAsked` account lookups (on EKS, the account alone costs no STS call). */
function inputs(over: Partial<ConfigInputs> & { role?: WorkloadRole } = {}): ConfigInputs & { asked: () => number; accountAsked: () => number } {
  let asked = 0;
  let accountAsked = 0;
  const role = over.role ?? ROLE;
  return {
    configPath: '/etc/sia/sia_config',
    env: {},
    siaDir: '/var/lib/sia',
    ...over,
    workloadRole: async () => {
      asked++;
      return role;
    },
    workloadAccount: async () => {
      accountAsked++;
      return role.account;
    },
    asked: () => asked,
    accountAsked: () => accountAsked,
  };
}

test('role names: strip -service, split at the last dot; @profile and a missing suffix', () => {
  assert.deepEqual(identityFromRoleName('sports.api-service'), { domain: 'sports', service: 'api' });
  assert.deepEqual(identityFromRoleName('media.news.web-service'), { domain: 'media.news', service: 'web' });
  assert.deepEqual(identityFromRoleName('sports.api-service@dev'), { domain: 'sports', service: 'api' });
  assert.equal(identityFromRoleName('sports.api'), undefined, 'the -service suffix is what marks a workload role');
  assert.equal(identityFromRoleName('api-service'), undefined, 'no domain');
  assert.equal(identityFromRoleName('.api-service'), undefined);
  assert.equal(identityFromRoleName('sports.-service'), undefined);
});

test('IAM role ARNs with and without a path', () => {
  assert.deepEqual(parseIamRoleArn('arn:aws:iam::123456789012:role/sports.api'), { account: '123456789012', name: 'sports.api' });
  assert.deepEqual(parseIamRoleArn('arn:aws:iam::123456789012:role/teams/a/sports.api'), { account: '123456789012', name: 'sports.api', path: 'teams/a' });
  assert.equal(parseIamRoleArn('arn:aws:sts::123456789012:assumed-role/x/y'), undefined);
  assert.equal(parseIamRoleArn('arn:aws:iam::123:role/x'), undefined);
});

test('no file, no variable: the role name gives domain, service and account; default paths and settings', async () => {
  const i = inputs();
  const c = await resolveConfig(i);
  assert.equal(i.asked(), 1);
  assert.equal(c.source, 'IAM role sports.api-service');
  assert.deepEqual([c.domain, c.service, c.account], ['sports', 'api', '123456789012']);
  assert.deepEqual(c.services, [{ name: 'api', keyFile: '/var/lib/sia/keys/sports.api.key.pem', certFile: '/var/lib/sia/certs/sports.api.cert.pem', expiryMins: 0, user: undefined, group: undefined }]);
  assert.equal(c.refreshIntervalMinutes, 1440);
  assert.equal(c.keyType, 'rsa');
  assert.equal(c.backupDir, '/var/lib/sia/backup');
  assert.deepEqual(c.roles, []);
});

test('the file comes first: the environment and the role are not consulted', async () => {
  const file = JSON.stringify({ service: 'api', accounts: [{ domain: 'sports', account: '111111111111' }] });
  const i = inputs({ fileText: file, env: { ATHENZ_SIA_IAM_ROLE_ARN: 'arn:aws:iam::222222222222:role/media.web', ATHENZ_SIA_REFRESH_INTERVAL: '5' } });
  const c = await resolveConfig(i);
  assert.equal(i.asked(), 0);
  assert.deepEqual([c.domain, c.service, c.account, c.source], ['sports', 'api', '111111111111', '/etc/sia/sia_config']);
  assert.equal(c.refreshIntervalMinutes, 1440, 'ATHENZ_SIA_* is ignored when the file is used, as in Athenz');
});

test('then ATHENZ_SIA_IAM_ROLE_ARN, with its role path; the role is not consulted', async () => {
  const i = inputs({ env: { ATHENZ_SIA_IAM_ROLE_ARN: 'arn:aws:iam::222222222222:role/teams/media.web' } });
  const c = await resolveConfig(i);
  assert.equal(i.asked(), 0);
  assert.deepEqual([c.domain, c.service, c.account, c.rolePath, c.source], ['media', 'web', '222222222222', 'teams', 'ATHENZ_SIA_IAM_ROLE_ARN']);
  await assert.rejects(resolveConfig(inputs({ env: { ATHENZ_SIA_IAM_ROLE_ARN: 'sports.api' } })), /is not an IAM role ARN/);
});

test('ATHENZ_SIA_* settings apply to the role-name identity too', async () => {
  const c = await resolveConfig(inputs({
    env: {
      ATHENZ_SIA_REFRESH_INTERVAL: '0.05', ATHENZ_SIA_EXPIRY_TIME: 'soon', ATHENZ_SIA_ROLE_PATH: '/teams/', ATHENZ_SIA_KEY_TYPE: 'ec',
      ATHENZ_SIA_ACCOUNT_ROLES: '{"sports:role.readers": {"expiry_time": 60}, "media:role.viewers": {"filename": "viewers.pem"}}',
      ATHENZ_SIA_HTTP_PORT: '9000', ATHENZ_SIA_USER: 'app', ATHENZ_SIA_SANDNS_WILDCARD: 'true', ATHENZ_SIA_CERT_DIR: '/certs',
    },
  }));
  assert.equal(c.refreshIntervalMinutes, 0.05, 'fractions of a minute are allowed');
  assert.equal(c.services[0].expiryMins, 0, 'an unparseable number is ignored, as in Athenz');
  assert.equal(c.rolePath, 'teams');
  assert.equal(c.keyType, 'ec');
  assert.equal(c.httpPort, 9000);
  assert.equal(c.services[0].user, 'app');
  assert.equal(c.sanDnsWildcard, true);
  assert.deepEqual(c.roles.map((r) => [r.name, r.domain, r.role, r.certFile, r.keyFile, r.expiryMins, r.service]), [
    ['sports:role.readers', 'sports', 'readers', '/certs/sports:role.readers.cert.pem', '/var/lib/sia/keys/sports:role.readers.key.pem', 60, 'api'],
    ['media:role.viewers', 'media', 'viewers', '/certs/viewers.pem', '/var/lib/sia/keys/viewers.pem.key.pem', 0, 'api'],
  ]);
  await assert.rejects(resolveConfig(inputs({ env: { ATHENZ_SIA_ACCOUNT_ROLES: '{readers}' } })), /ATHENZ_SIA_ACCOUNT_ROLES is not valid JSON/);
  await assert.rejects(resolveConfig(inputs({ env: { ATHENZ_SIA_KEY_TYPE: 'dsa' } })), /key_type must be "rsa"/);
});

/** A projected token's shape (unsigned: siad reads it, ZTS verifies it). */
const podToken = (sub: string) => `e30.${Buffer.from(JSON.stringify({ sub })).toString('base64url')}.sig`;

test('on EKS, the pod token\'s service account <domain>.<service> names the identity; the account is the pod\'s, the role is not looked up', async () => {
  const pod: WorkloadRole = { name: 'sports.api-pod', account: '210987654321', arn: 'arn:aws:iam::210987654321:role/sports.api-pod' };
  const i = inputs({ role: pod, serviceAccountToken: podToken('system:serviceaccount:sports:sports.api') });
  const c = await resolveConfig(i);
  assert.deepEqual([c.domain, c.service, c.account, c.source], ['sports', 'api', '210987654321', 'service account sports.api']);
  assert.deepEqual([i.asked(), i.accountAsked()], [0, 1]);
  // The variable still comes first, and a service account without a dot falls through to the role name.
  const byVar = await resolveConfig(inputs({ env: { ATHENZ_SIA_IAM_ROLE_ARN: 'arn:aws:iam::123456789012:role/media.web' }, serviceAccountToken: podToken('system:serviceaccount:sports:sports.api') }));
  assert.deepEqual([byVar.domain, byVar.service], ['media', 'web']);
  const byRole = await resolveConfig(inputs({ serviceAccountToken: podToken('system:serviceaccount:sports:default') }));
  assert.deepEqual([byRole.domain, byRole.service, byRole.source], ['sports', 'api', 'IAM role sports.api-service']);
  await assert.rejects(
    resolveConfig(inputs({ role: pod, serviceAccountToken: podToken('system:serviceaccount:sports:default') })),
    (e: unknown) => e instanceof ConfigError && /the pod's service account default, which is not <domain>\.<service>/.test(e.message) && /run the pod as service account <domain>\.<service>/.test(e.message),
  );
  await assert.rejects(resolveConfig(inputs({ role: pod, serviceAccountToken: 'not a jwt' })), (e: unknown) => e instanceof ConfigError && /\(unreadable token\)/.test(e.message));
});

test('nothing names an identity: the message says which three places were searched', async () => {
  const role = { name: 'app-task-role', account: '123456789012', arn: 'arn:aws:iam::123456789012:role/app-task-role' };
  await assert.rejects(resolveConfig(inputs({ role })), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /searched: the config file \/etc\/sia\/sia_config \(not found\), the variable ATHENZ_SIA_IAM_ROLE_ARN \(not set\), and the workload's IAM role name app-task-role/);
    return true;
  });
});

test('a broken file is an error, not a silent fall-through', async () => {
  await assert.rejects(resolveConfig(inputs({ fileText: '{"service": ' })), /\/etc\/sia\/sia_config is not valid JSON/);
  await assert.rejects(resolveConfig(inputs({ fileText: '{"accounts": []}' })), /"service" is required/);
  await assert.rejects(resolveConfig(inputs({ fileText: '{"service": "api"}' })), /"accounts" is required/);
  await assert.rejects(resolveConfig(inputs({ fileText: '{"service": "api", "accounts": [{"domain": "sports"}]}' })), /needs "domain" and "account"/);
  await assert.rejects(resolveConfig(inputs({ fileText: '{"service": "api", "refresh_interval": "daily", "accounts": [{"domain": "sports", "account": "1"}]}' })), /refresh_interval must be a number/);
});

test('several accounts: the entry for the workload\'s account', async () => {
  const file = JSON.stringify({ service: 'api', accounts: [{ domain: 'dev', account: '111111111111' }, { domain: 'sports', account: '123456789012' }] });
  const i = inputs({ fileText: file });
  assert.equal((await resolveConfig(i)).domain, 'sports');
  assert.deepEqual([i.asked(), i.accountAsked()], [0, 1]);
  const other = JSON.stringify({ service: 'api', accounts: [{ domain: 'a', account: '1' }, { domain: 'b', account: '2' }] });
  await assert.rejects(resolveConfig(inputs({ fileText: other })), /none of the "accounts" entries is for this workload's AWS account 123456789012/);
});

test('file settings: services, file names, owners, roles, and Athenz\'s key-option rules', async () => {
  const file = {
    service: 'api',
    services: { api: { key_filename: 'api.key', user: 'svc' }, web: { cert_filename: '/srv/web.pem', expiry_time: 600 } },
    refresh_interval: 60, http_port: 8181, rotate_key: true, sia_key_dir: '/keys', access_tokens: { 'sports/readers': {} },
    accounts: [{ domain: 'sports', account: '123456789012', user: 'root', group: 'athenz', roles: { 'sports:role.readers': { service: 'nope' } } }],
  };
  const c = await resolveConfig(inputs({ fileText: JSON.stringify(file) }));
  assert.deepEqual(c.services.map((s) => [s.name, s.keyFile, s.certFile, s.user, s.group, s.expiryMins]), [
    ['api', '/keys/api.key', '/var/lib/sia/certs/sports.api.cert.pem', 'svc', 'athenz', 0],
    ['web', '/keys/sports.web.key.pem', '/srv/web.pem', undefined, undefined, 600],
  ]);
  assert.equal(c.refreshIntervalMinutes, 60);
  assert.equal(c.httpPort, 8181);
  assert.equal(c.roles[0].service, 'api', 'an unknown service falls back to the primary');
  assert.equal(c.rotateKey, false, 'rotate_key would orphan role certificates issued for the service key');
  assert.ok(c.warnings.some((w) => /service nope is not configured/.test(w)));
  assert.ok(c.warnings.some((w) => /rotate_key is off/.test(w)));
  await assert.rejects(resolveConfig(inputs({ fileText: JSON.stringify({ ...file, services: { web: {} } }) })), /"services" must include the primary service "api"/);
});

test('access tokens: Athenz\'s access_tokens keys, defaults, token dir and store option; mistakes named', async () => {
  const file = {
    service: 'api',
    services: { api: { user: 'svc', group: 'athenz' }, web: {} },
    accounts: [{ domain: 'sports', account: '123456789012' }],
    access_tokens: { 'sports/readers': {}, 'media/all': { roles: ['*'], expires_in: 3600, service: 'web' }, 'sports/two': { roles: ['a', 'b'], service: 'nope' } },
  };
  const c = await resolveConfig(inputs({ fileText: JSON.stringify(file) }));
  assert.equal(c.tokenDir, '/var/lib/sia/tokens');
  assert.equal(c.storeTokenOption, 1, 'Athenz\'s default: the token as a JSON string');
  assert.deepEqual(c.accessTokens.map((t) => [t.name, t.domain, t.roles, t.service, t.expiresIn, t.file, t.user, t.group]), [
    ['sports/readers', 'sports', ['readers'], 'api', 28_800, '/var/lib/sia/tokens/sports/readers', 'svc', 'athenz'],
    ['media/all', 'media', ['*'], 'web', 3600, '/var/lib/sia/tokens/media/all', undefined, undefined],
    ['sports/two', 'sports', ['a', 'b'], 'api', 28_800, '/var/lib/sia/tokens/sports/two', 'svc', 'athenz'],
  ]);
  const dir = await resolveConfig(inputs({ fileText: JSON.stringify({ ...file, sia_token_dir: '/run/tokens', store_token_option: 0 }) }));
  assert.equal(dir.accessTokens[0].file, '/run/tokens/sports/readers');
  assert.equal(dir.storeTokenOption, 0);
  const env = await resolveConfig(inputs({ env: { ATHENZ_SIA_ACCESS_TOKENS: '{"sports/readers": {}}', ATHENZ_SIA_TOKEN_DIR: '/t', ATHENZ_SIA_STORE_TOKEN_OPTION: '2' } }));
  assert.deepEqual(env.accessTokens.map((t) => t.file), ['/t/sports/readers']);
  assert.equal(env.storeTokenOption, 2);

  const bad = (over: Record<string, unknown>) => resolveConfig(inputs({ fileText: JSON.stringify({ ...file, ...over }) }));
  await assert.rejects(bad({ access_tokens: { readers: {} } }), (e: unknown) => e instanceof ConfigError && /access_tokens "readers": the key is <domain>\/<file name>/.test(e.message));
  await assert.rejects(bad({ access_tokens: { 'sports/r': { roles: 'readers' } } }), /roles must be a list of role names/);
  await assert.rejects(bad({ access_tokens: { 'sports/r': { expires_in: 'long' } } }), /expires_in must be whole seconds/);
  await assert.rejects(bad({ store_token_option: 5 }), /store_token_option must be 0 \(the whole ZTS response\), 1/);
  await assert.rejects(resolveConfig(inputs({ env: { ATHENZ_SIA_ACCESS_TOKENS: '{sports' } })), /ATHENZ_SIA_ACCESS_TOKENS is not valid JSON/);
});

test('hooks and the socket: Athenz\'s names in the file and the environment, the hook time limit', async () => {
  const file = await resolveConfig(inputs({
    fileText: JSON.stringify({
      service: 'api', accounts: [{ domain: 'sports', account: '123456789012' }],
      run_after: '/usr/bin/reload', run_after_tokens: '/usr/bin/tokens', run_after_tokens_err: '/usr/bin/tokens-err',
      run_after_timeout: 2.5, sds_uds_path: '/var/run/sia/siad.sock',
    }),
  }));
  assert.deepEqual([file.runAfter, file.runAfterTokens, file.runAfterTokensErr, file.runAfterTimeoutSeconds, file.socket],
    ['/usr/bin/reload', '/usr/bin/tokens', '/usr/bin/tokens-err', 2.5, '/var/run/sia/siad.sock']);
  assert.deepEqual(file.warnings, [], 'no longer "not supported"');
  const env = await resolveConfig(inputs({
    env: { ATHENZ_SIA_RUN_AFTER_TOKENS: '/usr/bin/t', ATHENZ_SIA_RUN_AFTER_TIMEOUT: '5', ATHENZ_SIA_SDS_UDS_PATH: '/run/siad.sock' },
  }));
  assert.deepEqual([env.runAfterTokens, env.runAfterTimeoutSeconds, env.socket], ['/usr/bin/t', 5, '/run/siad.sock']);
  const defaults = await resolveConfig(inputs());
  assert.equal(defaults.runAfterTimeoutSeconds, 60);
  assert.equal(defaults.socket, undefined);
  await assert.rejects(resolveConfig(inputs({ fileText: JSON.stringify({ service: 'api', accounts: [{ domain: 'sports', account: '1' }], run_after_timeout: -1 }) })),
    /run_after_timeout must be a number of at least 0/);
});
