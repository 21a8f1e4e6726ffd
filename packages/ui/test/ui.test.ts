/**
 * The web UI in Debian's Chromium (driven by playwright-core) against a real
 * `tessera serve`: log in with the keyboard, create a domain, add a service,
 * Allow a provider (check mark now and after reload), roles, policies,
 * history, instances, refusals in words, session expiry. Screenshots of the
 * main pages go to artifacts/screenshots/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { isDomainName } from '@tessera/core/names';
import { putCertRecord } from '@tessera/zts/cert-records';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '@tessera/server/test/support/test-server';
import { serviceCsr, ztsCall } from '@tessera/server/test/support/workload';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const SHOTS = join(ROOT, 'artifacts/screenshots');
const CHROMIUM = '/usr/bin/chromium';

/** The same rule as scripts/setup.sh: no dist, or a source newer than it (the server code aside). */
function uiBuildStale(): boolean {
  const ui = join(ROOT, 'packages/ui');
  const built = join(ui, 'dist/index.html');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  const newer = (path: string): boolean => {
    const s = statSync(path);
    if (!s.isDirectory()) return s.mtimeMs > builtAt;
    return path !== join(ui, 'src/server') && readdirSync(path).some((f) => newer(join(path, f)));
  };
  return ['src', 'public', 'index.html', 'vite.config.ts'].some((f) => newer(join(ui, f)));
}

let t: TestServer;
/** aws-sim, the server's STS: the commands of Next steps' "Locally (aws-sim)" tab run against it. */
let sim: AwsSim;
let browser: Browser;
let origin: string;
/** The admin's browser, logged in by the keyboard test and used by the workflow tests after it. */
let admin: { context: BrowserContext; page: Page };
const problems: string[] = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run bash scripts/setup.sh (it installs Debian's chromium)`);
  if (uiBuildStale()) execFileSync('npm', ['run', 'build', '-w', 'packages/ui', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  mkdirSync(SHOTS, { recursive: true });
  sim = await startAwsSim();
  // ZTS's own AWS identity, as aws-sim's serve-aws.env gives it: the local EKS steps trust it with oidc-issuers-reader.
  const zts = sim.createAccessKey('999999999999', { userName: 'zts' });
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: zts.accessKeyId, AWS_SECRET_ACCESS_KEY: zts.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' });
  t = await startTestServer('sqlite', { awsStsEndpoint: sim.url, awsIamEndpoint: sim.url, awsOidcEndpoint: `${sim.url}/oidc` });
  origin = new URL(t.url).origin;
  await t.user('alice');
  await t.user('bob');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    headless: true,
  });
});

after(async () => {
  await browser?.close();
  await t?.close();
  await sim?.close();
  // Script errors and CSP violations fail the suite wherever they happened.
  assert.deepEqual(problems, []);
});

async function open(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  return { context, page };
}

/** The page from its top, as a person arriving on it sees it. */
async function shot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

async function login(page: Page, user: string, password: string): Promise<void> {
  await page.goto(`${origin}/`);
  await page.waitForURL(/\/login/);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('principal').waitFor();
}

/** The text of the alert inside `scope`, once one shows. */
async function alertText(scope: ReturnType<Page['locator']>): Promise<string> {
  const alert = scope.getByRole('alert').first();
  await alert.waitFor();
  return (await alert.textContent()) ?? '';
}

test('the login form works with the keyboard alone, and focus is visible', async () => {
  admin = await open();
  const { page } = admin;
  await page.goto(`${origin}/`);
  await page.waitForURL(/\/login$/);
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'user', 'the user field has focus on arrival');
  await page.keyboard.type('admin');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'password');
  const outline = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement!);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
  });
  assert.notEqual(outline.style, 'none', 'the focused field shows a focus ring');
  assert.ok(outline.width >= 2, `focus ring is ${outline.width}px`);
  await page.keyboard.type(ADMIN_PASSWORD);
  await shot(page, 'login');
  await page.keyboard.press('Enter');
  await page.getByTestId('principal').waitFor();
  assert.equal(await page.getByTestId('principal').textContent(), 'user.admin');
  await page.getByRole('heading', { name: 'My domains' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
});

test('create a domain, add a service, Allow the EC2/EKS/Fargate provider: check mark now and after reload', async () => {
  const { page } = admin;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Create domain' }).click();
  await page.getByRole('heading', { name: 'Create domain' }).waitFor();
  assert.equal(await page.getByRole('radio', { name: 'Top-level domain' }).isChecked(), true, 'system admins start with top-level');
  await page.getByLabel('Domain name').fill('sports');
  await page.getByLabel('Description').fill('Sports scores and schedules');
  await page.getByLabel('AWS account id(s)').fill('123456789012');
  await page.getByLabel('Product id').fill('PRD-1234');
  await shot(page, 'create-domain');
  await page.getByRole('button', { name: 'Create domain' }).click();
  await page.waitForURL(/\/domain\/sports\/services$/);
  await page.getByRole('heading', { name: 'sports', level: 1 }).waitFor();
  const details = await page.getByRole('definition').allTextContents();
  assert.ok(details.includes('123456789012'), `header shows the AWS account: ${details.join(' | ')}`);
  assert.ok(details.includes('PRD-1234'));

  await page.getByRole('button', { name: 'Add a Service' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a Service to sports' });
  await dialog.waitFor();
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await dialog.getByLabel('Service name').fill('api');
  await dialog.getByLabel('Description').fill('The public scores API');
  await dialog.getByLabel('Public key id').fill('v0');
  await dialog.getByLabel('Public key (PEM)').fill(pem);
  await dialog.getByRole('button', { name: 'Add a Service' }).click();
  await page.getByRole('status').filter({ hasText: 'Service sports.api added' }).waitFor();
  assert.equal(await dialog.isVisible(), false);

  // ZMS stored the key YBase64-encoded, and it decodes to the PEM we pasted.
  const stored = await t.admin.call<{ publicKeys: { id: string; key: string }[] }>('GET', '/domain/sports/service/api');
  const key = stored.body.publicKeys[0].key;
  assert.equal(Buffer.from(key.replace(/\./g, '+').replace(/_/g, '/').replace(/-/g, '='), 'base64').toString(), pem);

  // The providers panel opens for the new service; nothing is allowed yet.
  const ec2 = page.locator('[data-provider="aws_instance_launch_provider"]');
  const ecs = page.locator('[data-provider="aws_ecs_instance_launch_provider"]');
  await ec2.getByRole('button', { name: /^Allow/ }).waitFor();
  await ecs.getByRole('button', { name: /^Allow/ }).waitFor();
  // Labelled so a Fargate or EKS user knows which is theirs.
  assert.match((await ec2.getByRole('rowheader').textContent()) ?? '', /^AWS EC2, EKS or Fargate \(siad with an IAM role\)athenz\.aws\.us-west-2/);
  assert.match((await ecs.getByRole('rowheader').textContent()) ?? '', /^AWS ECS on EC2 \(container instances\)athenz\.aws-ecs\.us-west-2/);
  assert.equal(await page.getByRole('region', { name: 'Next steps' }).count(), 0, 'no next steps before anything is allowed');
  await page.getByRole('button', { name: 'Allow AWS EC2, EKS or Fargate (siad with an IAM role)' }).click();
  await ec2.locator('.allowed').waitFor();
  // Focus moves to Next steps (not to the top of the page).
  await page.waitForFunction(() => document.activeElement?.closest('section.next-steps') !== null);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Next steps');
  assert.equal(await ecs.getByRole('button', { name: /^Allow/ }).isVisible(), true, 'ECS stays not allowed');

  // After Allow: the banner says what is next, and Next steps shows the roles, trust policies and siad command.
  await page.getByRole('status').filter({ hasText: 'AWS EC2, EKS or Fargate (siad with an IAM role) may now launch sports.api. The next steps are below.' }).waitFor();
  assert.equal(await page.getByText('Open its providers').count(), 0, 'the old banner is gone');
  const next = page.getByRole('region', { name: 'Next steps' });
  await next.waitFor();
  const json = async (label: string) => JSON.parse((await next.getByLabel(label, { exact: true }).textContent()) ?? '') as { Statement: Record<string, unknown>[] };
  // The token path first: the pod's projected token for ZTS, the reader role ZTS lists the account's issuers with.
  assert.equal(await next.getByRole('radio', { name: 'EKS, projected token (no STS call)' }).isChecked(), true, 'the token path is the first platform');
  const podSpec = (await next.getByLabel('pod spec', { exact: true }).textContent()) ?? '';
  assert.match(podSpec, /^serviceAccountName: sports\.api$/m);
  assert.ok(podSpec.includes(`audience: "https://localhost:${new URL(t.server.ztsUrl).port}/zts/v1"`), podSpec);
  assert.match(podSpec, /TESSERA_SA_TOKEN_FILE=\/var\/run\/secrets\/tessera\/token/);
  assert.deepEqual((await json('Trust policy of oidc-issuers-reader')).Statement, [{ Effect: 'Allow', Principal: { AWS: "<ZTS's AWS role ARN>" }, Action: 'sts:AssumeRole' }]);
  await next.getByRole('radio', { name: 'ECS on Fargate' }).check();
  assert.deepEqual((await json('Trust policy of sports.api')).Statement, [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:role/sports.api-service' }, Action: 'sts:AssumeRole' }]);
  assert.deepEqual((await json('Trust policy of sports.api-service')).Statement, [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
  await next.getByRole('radio', { name: 'EKS, Pod Identity' }).check();
  assert.deepEqual((await json('Trust policy of sports.api-service')).Statement, [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }]);
  assert.match((await next.textContent()) ?? '', /create-pod-identity-association .*--role-arn arn:aws:iam::123456789012:role\/sports\.api-service/s);
  await next.getByRole('radio', { name: 'EKS, IRSA' }).check();
  await next.getByLabel('Cluster OIDC issuer').fill('https://oidc.eks.us-west-2.amazonaws.com/id/ABC123');
  const issuer = 'oidc.eks.us-west-2.amazonaws.com/id/ABC123';
  assert.deepEqual((await json('Trust policy of sports.api-service')).Statement, [
    {
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${issuer}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${issuer}:sub`]: 'system:serviceaccount:sports:sports-api', [`${issuer}:aud`]: 'sts.amazonaws.com' } },
    },
  ]);
  const ztsPort = new URL(t.server.ztsUrl).port;
  assert.equal(
    (await next.getByLabel('siad command', { exact: true }).textContent())?.replace(/\\\n\s*/g, ''),
    `siad -cmd post -zts localhost -ztsport ${ztsPort} -ztscacert ca.cert.pem -dnsdomains aws.athenz.cloud -providerprefix athenz.aws -siadir /var/lib/sia`,
  );
  assert.match((await next.textContent()) ?? '', /docs\/examples\/.*fargate-task-definition\.json.*eks-pod\.yaml/);
  await next.getByRole('radio', { name: 'ECS on Fargate' }).check();
  const access = await t.admin.call<{ granted: boolean }>('GET', '/access/launch?resource=sports:service.api&domain=sports&principal=athenz.aws.us-west-2');
  assert.equal(access.body.granted, true);

  // A second service, so the table is a table; it is deleted (after a confirmation) below.
  await page.getByRole('button', { name: 'Add a Service' }).click();
  await dialog.getByLabel('Service name').fill('batch');
  await dialog.getByLabel('Description').fill('Nightly score imports');
  await dialog.getByRole('button', { name: 'Add a Service' }).click();
  await page.getByRole('status').filter({ hasText: 'Service sports.batch added' }).waitFor();
  await page.locator('[data-service="batch"]').getByText('not allowed').waitFor();
  // batch gets a launch rule too: deleting it below must say the rule stays, and how to remove it.
  assert.equal((await t.admin.call('PUT', '/domain/sports/template', { templateNames: ['aws_instance_launch_provider'], params: [{ name: 'service', value: 'batch' }] })).status, 204);

  await page.reload();
  await page.getByRole('button', { name: 'Providers of api' }).click();
  await ec2.locator('.allowed').waitFor();
  await ecs.getByRole('button', { name: /^Allow/ }).waitFor();
  await page.getByRole('button', { name: /1 key/ }).click();
  await page.getByText('BEGIN PUBLIC KEY').waitFor();
  await page.getByRole('button', { name: /1 key/ }).click();
  await shot(page, 'services');
  // The README's picture is a tracked file: refreshed on request only, so a test run leaves the tree clean.
  const docsImage = join(ROOT, 'docs/images/ui-services.png');
  if (!existsSync(docsImage) || process.env.TESSERA_UPDATE_DOCS_IMAGES === '1') {
    mkdirSync(dirname(docsImage), { recursive: true });
    copyFileSync(join(SHOTS, 'services.png'), docsImage);
  }

  await page.getByRole('button', { name: 'Delete service batch' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete service sports.batch?' });
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel', 'a confirmation starts on Cancel');
  const left = (await confirm.getByTestId('launch-rule-left').textContent()) ?? '';
  assert.match(left, /The launch rule stays: policy aws_instance_launch_provider still lets the provider launch sports:service\.batch/);
  assert.ok(left.includes('zms-cli -d sports delete-assertion aws_instance_launch_provider grant launch to aws_instance_launch_provider on sports:service.batch'), left);
  await confirm.getByRole('button', { name: 'Delete service' }).click();
  await page.getByRole('status').filter({ hasText: 'Service sports.batch deleted' }).waitFor();
  assert.equal(await page.locator('[data-service="batch"]').count(), 0);
  assert.equal((await t.admin.call('GET', '/domain/sports/service/batch')).status, 404);
  const rule = await t.admin.call<{ assertions: { resource: string }[] }>('GET', '/domain/sports/policy/aws_instance_launch_provider');
  assert.ok(rule.body.assertions.some((a) => a.resource === 'sports:service.batch'), 'the rule the warning names is really left behind');

  // Keyboard: Escape closes a dialog and focus returns to the button that opened it.
  await page.getByRole('button', { name: 'Add a Service' }).focus();
  await page.keyboard.press('Enter');
  await dialog.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.closest('dialog') !== null), true, 'focus moves into the dialog');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Add a Service');
});

test('roles: add a role and a member with an expiry; policies: add and remove an assertion; history shows it all', async () => {
  const { page } = admin;
  await page.getByRole('tab', { name: 'Roles' }).click();
  await page.waitForURL(/\/domain\/sports\/roles$/);
  await page.locator('[data-role="aws_instance_launch_provider"]').getByText('athenz.aws.*').waitFor();

  await page.getByRole('button', { name: 'Add role' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add role to sports' });
  await dialog.getByLabel('Role name').fill('readers');
  await dialog.getByLabel('Members').fill('user.alice');
  await dialog.getByRole('button', { name: 'Add role' }).click();
  const readers = page.locator('[data-role="readers"]');
  await readers.getByText('user.alice').waitFor();
  assert.equal(await readers.getByLabel('New member').count(), 0, 'the add form is closed behind its button');
  await readers.getByRole('button', { name: 'Add member' }).click();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('placeholder')), 'user.jane', 'opening it focuses its first field');
  await readers.getByLabel('New member').fill('user.bob');
  await readers.getByLabel('Expires (optional)').fill('2030-01-31');
  await readers.getByRole('button', { name: 'Add member' }).click();
  await readers.getByText('user.bob').waitFor();
  assert.match((await readers.locator('tr', { hasText: 'user.bob' }).textContent()) ?? '', /2030-01-31/);
  const role = await t.admin.call<{ roleMembers: { memberName: string; expiration?: string }[] }>('GET', '/domain/sports/role/readers');
  assert.ok(role.body.roleMembers.find((m) => m.memberName === 'user.bob')?.expiration?.startsWith('2030-01-'));
  await shot(page, 'roles');

  // Keyboard: arrow keys move between the tabs.
  await page.getByRole('tab', { name: 'Roles' }).focus();
  await page.keyboard.press('ArrowRight');
  await page.waitForURL(/\/services$/);
  await page.keyboard.press('ArrowRight');
  await page.waitForURL(/\/policies$/);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Policies');

  const launch = page.locator('[data-policy="aws_instance_launch_provider"]');
  await launch.getByText('sports:service.api').waitFor();
  await page.getByRole('button', { name: 'Add policy' }).click();
  const addPolicy = page.getByRole('dialog', { name: 'Add policy to sports' });
  await addPolicy.getByLabel('Policy name').fill('readers');
  await addPolicy.getByLabel('Action').fill('read');
  await addPolicy.getByLabel('Role').fill('readers');
  await addPolicy.getByLabel('Resource').fill('service.*');
  await addPolicy.getByRole('button', { name: 'Add policy' }).click();
  const policy = page.locator('[data-policy="readers"]');
  await policy.getByText('sports:role.readers').waitFor();
  await policy.getByRole('button', { name: 'Add assertion' }).click();
  await policy.getByLabel('Action').fill('list');
  await policy.getByLabel('Role').fill('readers');
  await policy.getByLabel('Resource').fill('service.api');
  await policy.getByRole('button', { name: 'Add assertion' }).click();
  await policy.getByText('sports:service.api').waitFor();
  await shot(page, 'policies');
  await policy.getByRole('button', { name: 'Remove assertion list on sports:service.api from readers' }).click();
  await page.getByRole('dialog', { name: 'Remove this assertion?' }).getByRole('button', { name: 'Remove assertion' }).click();
  await page.getByRole('status').filter({ hasText: 'Assertion removed from policy readers' }).waitFor();
  // The list reloads after the banner: wait for the row to go (fails after the timeout if it stays).
  await policy.getByText('sports:service.api').waitFor({ state: 'detached' });

  await page.getByRole('tab', { name: 'History' }).click();
  const history = page.getByRole('table');
  await history.getByText('Removed an assertion').waitFor();
  const text = (await history.textContent()) ?? '';
  for (const what of ['Created the domain', 'Added or updated a service', 'Applied a template', 'Added a member', 'member: user.bob', 'Deleted a service']) {
    assert.ok(text.includes(what), `history shows "${what}"`);
  }
  await shot(page, 'history');
});

test('instances of a service: listed from the certificate records, revoked after a confirmation', async () => {
  const { page } = admin;
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  await putCertRecord(t.server.store.db, {
    provider: 'athenz.aws.us-west-2',
    instance_id: 'i-0abc123def4567890',
    service: 'sports.api',
    current_serial: '1001',
    current_ip: '10.0.12.34',
    current_time: iso(now - 3_600_000),
    prev_serial: '1000',
    prev_ip: '10.0.12.34',
    prev_time: iso(now - 90_000_000),
    expiry_time: iso(now + 6 * 86_400_000),
    issued_time: iso(now - 90_000_000),
    hostname: null,
    client_cert: 0,
    sia_provider: null,
  });
  await page.getByRole('tab', { name: 'Services' }).click();
  await page.getByRole('link', { name: 'Instances of api' }).click();
  await page.waitForURL(/\/domain\/sports\/services\/api\/instances$/);
  const row = page.locator('[data-instance="i-0abc123def4567890"]');
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', /athenz\.aws\.us-west-2.*10\.0\.12\.34/);
  await shot(page, 'instances');
  await row.getByRole('button', { name: 'Revoke instance i-0abc123def4567890' }).click();
  await page.getByRole('dialog', { name: 'Revoke instance i-0abc123def4567890?' }).getByRole('button', { name: 'Revoke instance' }).click();
  await page.getByRole('status').filter({ hasText: 'Instance i-0abc123def4567890 revoked' }).waitFor();
  await page.getByText('No instances yet').waitFor();
  const left = await t.admin.call<{ instances: unknown[] }>('GET', '/domain/sports/service/api/instances');
  assert.equal(left.body.instances.length, 0);
});

test('the Services row: ✓ allowed, the instance count, and the last refused attempt when newer than the last certificate', async () => {
  const { page } = admin;
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  await putCertRecord(t.server.store.db, {
    provider: 'athenz.aws.us-west-2',
    instance_id: 'i-0feed000000000001',
    service: 'sports.api',
    current_serial: '3001',
    current_ip: '10.0.12.40',
    current_time: iso(now - 3_600_000),
    prev_serial: '3000',
    prev_ip: '10.0.12.40',
    prev_time: iso(now - 3_600_000),
    expiry_time: iso(now + 6 * 86_400_000),
    issued_time: iso(now - 3_600_000),
    hostname: null,
    client_cert: 0,
    sia_provider: null,
  });
  // A workload tries the ECS provider, which sports.api does not allow: ZTS refuses it.
  const { csr } = await serviceCsr({ domain: 'sports', service: 'api', provider: 'athenz.aws-ecs.us-west-2', instanceId: 'task-refused-1' });
  const refused = await ztsCall(t.server.ztsUrl, t.ca, 'POST', '/instance', {
    provider: 'athenz.aws-ecs.us-west-2',
    domain: 'sports',
    service: 'api',
    csr,
    attestationData: JSON.stringify({ role: 'sports.api', access: 'AKIA0000000000000000', secret: 'x', token: 'x' }),
  });
  assert.equal(refused.status, 403, `ZTS refuses a provider the service does not allow: ${JSON.stringify(refused.body)}`);

  await page.goto(`${origin}/domain/sports/services`);
  const row = page.locator('[data-service="api"]');
  await row.getByTestId('launch-status').waitFor();
  assert.match((await row.getByTestId('launch-status').textContent()) ?? '', /^✓ allowed: AWS EC2, EKS or Fargate \(siad with an IAM role\)$/);

  const status = await t.admin.call<{ services: { name: string; instances: number; lastIssued?: string; lastFailure?: { message: string } }[] }>('GET', '/domain/sports/service-status');
  assert.equal(status.status, 200, `GET /domain/sports/service-status: ${status.text}`);
  const api = status.body.services.find((s) => s.name === 'api');
  assert.ok(api?.lastFailure, `service-status keeps the refusal: ${JSON.stringify(status.body)}`);
  await row.getByRole('link', { name: `Instances of api: ${api.instances}` }).waitFor();
  assert.equal(await row.getByRole('link', { name: /^Instances of api/ }).textContent(), `${api.instances} instance${api.instances === 1 ? '' : 's'}`);
  const attempt = page.locator('[data-attempt-for="api"]');
  await attempt.waitFor();
  const line = (await attempt.textContent()) ?? '';
  assert.ok(line.includes(`last attempt just now: ${api.lastFailure.message}`), `the row shows the refusal as ZTS sent it: ${line}`);
  assert.match(line, /athenz\.aws-ecs\.us-west-2/);
});

test('home: my domains and the search over domains and services', async () => {
  const { page } = admin;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Domains' }).click();
  await page.getByRole('list', { name: 'My domains' }).getByRole('link', { name: 'sports' }).waitFor();
  await page.getByLabel('Name').fill('spo');
  await page.getByRole('button', { name: 'Search' }).click();
  const results = page.getByRole('region', { name: 'Search results' });
  await results.getByRole('link', { name: 'sports' }).waitFor();
  await page.getByLabel('Look for').selectOption('services');
  await page.getByLabel('Name').fill('api');
  await page.getByRole('button', { name: 'Search' }).click();
  await results.getByRole('link', { name: 'sports.api' }).waitFor();
  await page.getByLabel('Name').fill('sports.api');
  await page.getByRole('button', { name: 'Search' }).click();
  await results.getByText('1 service matches “sports.api”.').waitFor();
  await shot(page, 'home');
  await results.getByRole('link', { name: 'sports.api' }).click();
  await page.waitForURL(/\/domain\/sports\/services$/);
});

test('a user without rights is refused in words, next to what they tried', async () => {
  const { context, page } = await open();
  await login(page, 'bob', 'bob-password');
  await page.goto(`${origin}/domain/sports/services`);
  await page.getByRole('button', { name: 'Add a Service' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a Service to sports' });
  await dialog.getByLabel('Service name').fill('web');
  await dialog.getByRole('button', { name: 'Add a Service' }).click();
  const refused = await alertText(dialog);
  assert.match(refused, /user\.bob is not authorized: needs update on sports:service\.web.*\(HTTP 403\)/);
  await shot(page, 'refused-add-service');
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  await page.getByRole('button', { name: 'Providers of api' }).click();
  const ecs = page.locator('[data-provider="aws_ecs_instance_launch_provider"]');
  await ecs.getByRole('button', { name: /^Allow/ }).click();
  assert.match(await alertText(ecs), /not authorized.*\(HTTP 403\)/);
  await shot(page, 'refused-allow');

  await page.getByRole('tab', { name: 'Roles' }).click();
  const readers = page.locator('[data-role="readers"]');
  await readers.getByRole('button', { name: 'Add member' }).click();
  await readers.getByLabel('New member').fill('user.mallory');
  await readers.getByRole('button', { name: 'Add member' }).click();
  assert.match(await alertText(readers), /not authorized.*\(HTTP 403\)/);
  await context.close();
});

test('personal domain and sub-domain, as a user who may not create top-level domains', async () => {
  const { context, page } = await open();
  await login(page, 'alice', 'alice-password');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Create domain' }).click();
  assert.equal(await page.getByRole('radio', { name: 'Top-level domain' }).isDisabled(), true);
  await page.getByRole('radio', { name: 'Personal domain' }).check();
  await page.getByRole('button', { name: 'Create user.alice' }).click();
  await page.waitForURL(/\/domain\/user\.alice\/services$/);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Create domain' }).click();
  await page.getByRole('radio', { name: 'Sub-domain', exact: true }).check();
  await page.getByLabel('Parent domain').fill('user.alice');
  await page.getByLabel('Sub-domain name').fill('dev');
  await page.getByRole('button', { name: 'Create sub-domain' }).click();
  await page.waitForURL(/\/domain\/user\.alice\.dev\/services$/);
  await shot(page, 'subdomain');
  // A sub-domain of a domain alice does not administer: refused in words.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Create domain' }).click();
  await page.getByLabel('Parent domain').fill('sports');
  await page.getByLabel('Sub-domain name').fill('mine');
  await page.getByRole('button', { name: 'Create sub-domain' }).click();
  assert.match(await alertText(page.locator('form')), /user\.alice is not authorized: needs create on sports:domain/);
  await context.close();
});

test('one validation style on every form: the problem under the field, aria-invalid + aria-describedby, focus on the first invalid field; input quoted as typed', async () => {
  const { page } = admin;
  /** The focused element's name and its error, read through aria-describedby as a screen reader would. */
  const focused = () =>
    page.evaluate(() => {
      const el = document.activeElement as HTMLInputElement;
      const described = (el.getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent ?? '');
      return { label: el.labels?.[0]?.textContent?.replace(' *', '') ?? '', invalid: el.getAttribute('aria-invalid'), described };
    });

  await page.goto(`${origin}/domain/sports/services`);
  await page.getByRole('button', { name: 'Add a Service' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add a Service to sports' });
  await dialog.getByRole('button', { name: 'Add a Service' }).click();
  let f = await focused();
  assert.equal(f.label, 'Service name', 'after an empty submit focus moves to the first invalid field');
  assert.equal(f.invalid, 'true');
  assert.equal(f.described[0], 'Enter a service name.');
  await dialog.getByLabel('Service name').fill('Bad Name!');
  await dialog.getByLabel('Public key id').fill('v1');
  await dialog.getByRole('button', { name: 'Add a Service' }).click();
  f = await focused();
  assert.equal(f.label, 'Service name');
  assert.equal(f.described[0], 'Service name "Bad Name!" is not valid: use letters, digits, "_" and "-", not starting with "-".', 'the input is quoted as typed');
  assert.equal(await dialog.getByLabel('Public key (PEM)').getAttribute('aria-invalid'), 'true', 'a key id without its PEM is marked too');
  await dialog.getByLabel('Service name').fill('API');
  await dialog.getByLabel('Public key id').fill('');
  await dialog.getByRole('button', { name: 'Add a Service' }).click();
  f = await focused();
  assert.equal(f.described[0], '"API" is already a service of sports: choose another name.');
  await shot(page, 'validation');
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // The same on the Roles tab (dialog and inline form) and on Create domain.
  await page.getByRole('tab', { name: 'Roles' }).click();
  await page.getByRole('button', { name: 'Add role' }).click();
  const role = page.getByRole('dialog', { name: 'Add role to sports' });
  await role.getByLabel('Role name').fill('writers');
  await role.getByLabel('Members').fill('user.jane, User.Joe!');
  await role.getByRole('button', { name: 'Add role' }).click();
  f = await focused();
  assert.deepEqual([f.label, f.invalid, f.described[0]], ['Members', 'true', '"User.Joe!" is not a member name: use user.<name>, <domain>.<service> or <domain>.*.']);
  await role.getByRole('button', { name: 'Cancel' }).click();
  const readers = page.locator('[data-role="readers"]');
  await readers.getByRole('button', { name: 'Add member' }).click();
  await readers.getByRole('button', { name: 'Add member' }).click();
  f = await focused();
  assert.deepEqual([f.label, f.invalid, f.described[0]], ['New member', 'true', 'Enter the member to add, e.g. user.jane or sports.api.']);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Create domain' }).click();
  await page.getByLabel('Domain name').fill('Weather');
  await page.getByLabel('AWS account id(s)').fill('123456789012, 12345');
  await page.getByRole('button', { name: 'Create domain' }).click();
  f = await focused();
  assert.deepEqual([f.label, f.invalid, f.described[0]], ['AWS account id(s)', 'true', '"12345" is not an AWS account id: 12 digits, several separated by commas.']);
  assert.equal((await t.admin.call('GET', '/domain/weather')).status, 404, 'nothing was sent');
});

test('a list that fails to load says why and offers Retry; My domains keeps the system domains apart', async () => {
  const { page, context } = admin;
  await page.goto(`${origin}/domain/sports/services`);
  await page.locator('[data-service="api"]').waitFor();
  await context.setOffline(true);
  await page.getByRole('tab', { name: 'History' }).click();
  const failure = await alertText(page.locator('.load-failure'));
  assert.match(failure, /^Could not read the history: Cannot reach the server/);
  await context.setOffline(false);
  await page.getByRole('button', { name: 'Retry' }).click();
  await page.getByRole('table').getByText('Removed an assertion').first().waitFor();
  assert.equal(await page.locator('.load-failure').count(), 0);

  // Adding checks the name against the list: without the list, Add role is disabled and says why.
  await context.setOffline(true);
  await page.getByRole('tab', { name: 'Roles' }).click();
  await page.locator('.load-failure').waitFor();
  const addRole = page.getByRole('button', { name: 'Add role' });
  assert.equal(await addRole.isDisabled(), true, 'Add role is disabled while the list failed to load');
  assert.equal(await page.evaluate(() => {
    const b = Array.from(document.querySelectorAll('button')).find((e) => e.textContent === 'Add role')!;
    return document.getElementById(b.getAttribute('aria-describedby') ?? '')?.textContent;
  }), 'Add role needs the list of roles, which did not load (see below).');
  await context.setOffline(false);
  await page.getByRole('button', { name: 'Retry' }).click();
  await page.locator('[data-role="readers"]').waitFor();
  assert.equal(await addRole.isEnabled(), true);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Domains' }).click();
  const mine = page.getByRole('list', { name: 'My domains' });
  await mine.getByRole('link', { name: 'sports' }).waitFor();
  const own = await mine.getByRole('link').allTextContents();
  assert.ok(!own.some((d) => d === 'sys.auth' || d === 'user' || d.startsWith('athenz')), `no system domain among mine: ${own.join(', ')}`);
  const system = page.locator('details.system-domains');
  await system.locator('summary').click();
  const sys = await system.getByRole('list', { name: 'System domains' }).getByRole('link').allTextContents();
  assert.ok(sys.includes('sys.auth'), `sys.auth is listed apart: ${sys.join(', ')}`);
  assert.ok(!sys.includes('sports'));
});

const VIEWPORTS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 },
];

/** No page may scroll sideways: wide tables scroll inside their own box instead. */
async function assertNoSideScroll(page: Page, where: string): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  assert.ok(scrollWidth <= innerWidth, `${where}: the page is ${scrollWidth} px wide in a ${innerWidth} px window`);
}

/** Every table sits inside its box: a wider table scrolls there, never past it. */
async function tablesInTheirBoxes(page: Page): Promise<{ table: number; box: number }[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('.table-wrap'), (w) => ({ table: (w.querySelector('table') as HTMLElement).offsetWidth, box: (w as HTMLElement).clientWidth })),
  );
}

type Clipped = (el: Element, box?: DOMRect) => string | null;

/**
 * Defines window.clipped in the page: where a box is cut off — outside the
 * window's width, or outside an ancestor that clips its overflow (a scroll
 * box, overflow hidden); null when whole. (evaluate is not held to the page's
 * CSP; an eval inside it would be.)
 */
async function installClipCheck(page: Page): Promise<void> {
  await page.evaluate(() => {
    // Assigned directly: a named function here would carry the test compiler's __name helper, which the page lacks.
    (window as unknown as { clipped: Clipped }).clipped = (el, box) => {
      const r = box ?? el.getBoundingClientRect();
      if (r.left < -0.5 || r.right > window.innerWidth + 0.5) return `outside the window (${Math.round(r.left)}..${Math.round(r.right)} of ${window.innerWidth})`;
      for (let a = el.parentElement; a; a = a.parentElement) {
        const s = getComputedStyle(a);
        const ar = a.getBoundingClientRect();
        if (s.overflowX !== 'visible' && (r.left < ar.left - 0.5 || r.right > ar.right + 0.5)) return `cut by ${a.tagName.toLowerCase()}.${a.className} (overflow-x ${s.overflowX})`;
        if (s.overflowY !== 'visible' && (r.top < ar.top - 0.5 || r.bottom > ar.bottom + 0.5)) return `cut by ${a.tagName.toLowerCase()}.${a.className} (overflow-y ${s.overflowY})`;
      }
      return null;
    };
  });
}

/** Where `locator`'s element is cut off, or null when it is whole on screen. */
async function clippedWhere(page: Page, locator: ReturnType<Page['locator']>): Promise<string | null> {
  await installClipCheck(page);
  return locator.evaluate((el) => (window as unknown as { clipped: Clipped }).clipped(el));
}

/**
 * Every cell of every stacked table: its column's name shown beside it, its
 * value on screen and not cut by any box. Returns the problems, in words.
 */
async function hiddenCells(page: Page): Promise<{ tables: number; cells: number; problems: string[] }> {
  await installClipCheck(page);
  return page.evaluate(() => {
    const { clipped } = window as unknown as { clipped: Clipped };
    const problems: string[] = [];
    let cells = 0;
    const tables = Array.from(document.querySelectorAll('table.stack'));
    for (const table of tables) {
      for (const cell of Array.from(table.querySelectorAll(':scope > tbody > tr > [data-label]'))) {
        const label = (cell as HTMLElement).dataset.label!;
        const where = `${table.getAttribute('aria-label') ?? table.className} / ${label}`;
        cells++;
        if (!cell.checkVisibility()) {
          problems.push(`${where}: not visible`);
          continue;
        }
        const shown = getComputedStyle(cell, '::before').content;
        if (!cell.classList.contains('actions') && shown !== JSON.stringify(label)) problems.push(`${where}: the label shows ${shown}`);
        // Each piece of text a sighted user reads (screen-reader-only text aside) must be whole on screen.
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        let shownText = 0;
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          if (!n.textContent?.trim() || n.parentElement?.closest('.visually-hidden')) continue;
          const range = document.createRange();
          range.selectNodeContents(n);
          const box = range.getBoundingClientRect();
          if (box.width === 0 || box.height === 0) continue;
          shownText++;
          const cut = clipped(n.parentElement!, box);
          if (cut) problems.push(`${where}: "${n.textContent.trim().slice(0, 40)}" is ${cut}`);
        }
        if (shownText === 0 && !cell.classList.contains('actions')) problems.push(`${where}: no value shown`);
        const cut = clipped(cell);
        if (cut) problems.push(`${where}: the cell is ${cut}`);
      }
    }
    return { tables: tables.length, cells, problems };
  });
}

/** Buttons, links, fields and tabs under 44 px high (a radio or checkbox counts its label, the thing tapped). */
async function smallTapTargets(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const small: string[] = [];
    for (const el of Array.from(document.querySelectorAll('button, a[href], input, select, textarea, summary, [role="tab"]'))) {
      if (el.classList.contains('skip-link') || !el.checkVisibility()) continue;
      const target = el.matches('input[type="radio"], input[type="checkbox"]') ? (el.closest('label') ?? el) : el;
      const r = target.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      const name = (el.getAttribute('aria-label') ?? el.textContent ?? (el as HTMLInputElement).name ?? '').trim().slice(0, 40);
      if (r.height < 43.5) small.push(`${el.tagName.toLowerCase()} "${name}": ${r.height.toFixed(1)} px`);
    }
    return small;
  });
}

for (const viewport of VIEWPORTS) {
  test(`every page at ${viewport.width}×${viewport.height}: no sideways scroll, tables scroll inside their cards, the dialog covers the screen`, async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: viewport.width, height: viewport.height } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    await putCertRecord(t.server.store.db, {
      provider: 'athenz.aws.us-west-2',
      instance_id: `3f2c9d0e8a7b4c1d9e6f5a4b3c2d1e0f-${viewport.name}`,
      service: 'sports.api',
      current_serial: `2${viewport.width}`,
      current_ip: '10.0.12.34',
      current_time: iso(now - 3_600_000),
      prev_serial: `2${viewport.width}`,
      prev_ip: '10.0.12.34',
      prev_time: iso(now - 3_600_000),
      expiry_time: iso(now + 6 * 86_400_000),
      issued_time: iso(now - 3_600_000),
      hostname: 'ip-10-0-12-34.us-west-2.compute.internal',
      client_cert: 0,
      sia_provider: 'FARGATE',
    });

    await page.goto(`${origin}/`);
    await page.waitForURL(/\/login/);
    await assertNoSideScroll(page, 'login');
    await login(page, 'admin', ADMIN_PASSWORD);
    const pages: [string, string, string][] = [
      ['/', 'My domains', 'home'],
      ['/create-domain', 'Create domain', 'create-domain'],
      ['/domain/sports/roles', 'Roles', 'roles'],
      ['/domain/sports/services', 'Services', 'services'],
      ['/domain/sports/policies', 'Policies', 'policies'],
      ['/domain/sports/history', 'History', 'history'],
      ['/domain/sports/services/api/instances', 'Instances of sports.api', 'instances'],
      ['/no/such/page', 'Page not found', 'not-found'],
    ];
    for (const [path, heading, name] of pages) {
      await page.goto(`${origin}${path}`);
      await page.getByRole('heading', { name: heading }).first().waitFor();
      await page.waitForFunction(() => !Array.from(document.querySelectorAll('[role="status"]')).some((e) => e.textContent?.startsWith('Loading')));
      if (name === 'services') {
        // The widest part of the page: the providers of a service with their Next steps.
        await page.getByRole('button', { name: 'Providers of api' }).click();
        await page.getByRole('region', { name: 'Next steps' }).waitFor();
        await page.locator('[data-provider="aws_instance_launch_provider"] .allowed').waitFor();
        await page.getByRole('region', { name: 'Next steps' }).screenshot({ path: join(SHOTS, `next-steps-${viewport.width}.png`) });
      }
      await assertNoSideScroll(page, path);
      if (viewport.width < 600) {
        // A phone: every table is stacked cards, each column's value under its name, none cut off; every control is tappable.
        const cells = await hiddenCells(page);
        if (['services', 'roles', 'policies', 'history', 'instances'].includes(name)) assert.ok(cells.tables > 0 && cells.cells > 0, `${path}: stacked tables shown`);
        assert.deepEqual(cells.problems, [], `${path}: every column's value is on screen`);
        assert.deepEqual(await smallTapTargets(page), [], `${path}: tap targets of at least 44 px`);
      }
      if (name === 'instances') {
        const row = page.locator(`[data-instance="3f2c9d0e8a7b4c1d9e6f5a4b3c2d1e0f-${viewport.name}"]`);
        assert.match((await row.textContent()) ?? '', /Fargate.*ip-10-0-12-34\.us-west-2\.compute\.internal/, 'platform and host name shown');
      }
      for (const { table, box } of await tablesInTheirBoxes(page)) {
        assert.ok(box <= viewport.width, `${path}: a table box is ${box} px wide`);
        if (viewport.width >= 1280) assert.ok(table <= box, `${path}: at ${viewport.width} px the table (${table} px) fits its card (${box} px)`);
      }
      await shot(page, `${name}-${viewport.width}`);
      if (name === 'services' && viewport.width < 600 && process.env.TESSERA_UPDATE_DOCS_IMAGES === '1') {
        copyFileSync(join(SHOTS, `${name}-${viewport.width}.png`), join(ROOT, 'docs/images/ui-services-phone.png'));
      }
    }

    // The top bar wraps: Log out stays on screen.
    const logout = await page.getByRole('button', { name: 'Log out' }).boundingBox();
    assert.ok(logout && logout.x + logout.width <= viewport.width, 'Log out is on screen');

    // A dialog: inside the screen, its backdrop covers all of it.
    await page.goto(`${origin}/domain/sports/services`);
    await page.getByRole('button', { name: 'Add a Service' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a Service to sports' });
    await dialog.waitFor();
    const box = await dialog.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= viewport.width, `the dialog fits the screen: ${JSON.stringify(box)}`);
    await assertNoSideScroll(page, 'Add a Service dialog');
    const backdrop = await page.evaluate(() => {
      const el = document.elementFromPoint(2, window.innerHeight - 2);
      return el?.tagName;
    });
    assert.equal(backdrop, 'DIALOG', 'a click at the screen corner lands on the dialog backdrop, not the page');
    await shot(page, `add-service-${viewport.width}`);
    await context.close();
  });
}

/** A logged-in admin in a new browser context of this size (and these permissions). */
async function adminAt(viewport: { width: number; height: number }, permissions: string[] = []): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport, permissions });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await login(page, 'admin', ADMIN_PASSWORD);
  return { context, page };
}

/** Presses Tab until the focused element matches `accessibleName` (aria-label or text); fails after `limit` presses. */
async function tabTo(page: Page, accessibleName: string, limit = 80): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const name = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? '');
    if (name === accessibleName) return;
  }
  assert.fail(`"${accessibleName}" was not reached with ${limit} presses of Tab`);
}

/** After Allow on a phone: focus is in Next steps, whose heading is on screen and whose width fits; "✓ Allowed" is whole. */
async function assertNextStepsInView(page: Page, service: string): Promise<void> {
  await page.waitForFunction(() => document.activeElement?.closest('section.next-steps') !== null);
  const next = page.getByRole('region', { name: 'Next steps' });
  const box = (await next.boundingBox())!;
  const heading = (await next.getByRole('heading', { name: 'Next steps' }).boundingBox())!;
  const { innerWidth, innerHeight } = await page.evaluate(() => ({ innerWidth: window.innerWidth, innerHeight: window.innerHeight }));
  assert.ok(box.x >= 0 && box.x + box.width <= innerWidth, `Next steps fits the width: ${JSON.stringify(box)}`);
  // Full width under the service's card: the page's 16 px margins, the card's borders and the row's padding aside.
  assert.ok(box.width >= innerWidth - 64, `Next steps takes the width of the screen: ${box.width} of ${innerWidth} px`);
  const panel = (await page.locator('tr.detail .panel').first().boundingBox())!;
  assert.ok(panel.width >= innerWidth - 64, `the Providers panel takes the width of the screen: ${panel.width} of ${innerWidth} px`);
  assert.ok(heading.y >= 0 && heading.y + heading.height <= innerHeight, `its heading is on screen: ${JSON.stringify(heading)}`);
  assert.equal(await clippedWhere(page, next), null, 'Next steps is not cut off sideways');
  for (const el of await next.locator('pre').all()) assert.equal(await clippedWhere(page, el), null, 'nor are its commands');
  const allowed = page.locator(`[data-provider="aws_instance_launch_provider"] .allowed`);
  assert.equal(await allowed.textContent(), '✓ Allowed');
  assert.equal(await clippedWhere(page, allowed), null, `"✓ Allowed" is whole for ${service}`);
  const text = await allowed.evaluate((el) => {
    const r = document.createRange();
    r.selectNodeContents(el);
    const b = r.getBoundingClientRect();
    return b.right <= el.getBoundingClientRect().right + 0.5 && b.right <= window.innerWidth;
  });
  assert.ok(text, '"✓ Allowed" is not cut inside its box');
}

test('on a phone, Allow moves focus to Next steps, which is whole on screen — with a tap and with the keyboard alone', async () => {
  for (const s of ['tap', 'keys']) assert.equal((await t.admin.call('PUT', `/domain/sports/service/${s}`, { name: `sports.${s}` })).status, 204);
  const { context, page } = await adminAt({ width: 390, height: 844 });
  await page.goto(`${origin}/domain/sports/services`);
  await page.getByRole('button', { name: 'Providers of tap' }).click();
  await page.getByRole('button', { name: 'Allow AWS EC2, EKS or Fargate (siad with an IAM role)' }).click();
  await assertNextStepsInView(page, 'tap');
  await page.screenshot({ path: join(SHOTS, 'allowed-390.png') }); // as the user sees it right after Allow

  // Keyboard only: Tab to the service's Providers, Enter, Tab to Allow, Enter.
  await page.goto(`${origin}/domain/sports/services`);
  await page.locator('[data-service="keys"]').waitFor();
  await tabTo(page, 'Providers of keys');
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Allow AWS EC2, EKS or Fargate (siad with an IAM role)' }).waitFor();
  await tabTo(page, 'Allow AWS EC2, EKS or Fargate (siad with an IAM role)');
  await page.keyboard.press('Enter');
  await assertNextStepsInView(page, 'keys');
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H4', 'focus is on the heading of Next steps');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'In AWS', 'the next Tab goes on inside Next steps');
  await context.close();
});

test('Copy buttons copy the trust policies and the siad command, with the Clipboard API or without it', async () => {
  const { context, page } = await adminAt({ width: 1280, height: 800 }, ['clipboard-read', 'clipboard-write']);
  await page.goto(`${origin}/domain/sports/services`);
  await page.getByRole('button', { name: 'Providers of api' }).click();
  const next = page.getByRole('region', { name: 'Next steps' });
  // The STS path's two roles (the token path, shown first, has neither).
  await next.getByRole('radio', { name: 'ECS on Fargate' }).check();
  for (const label of ['Trust policy of sports.api-service', 'Trust policy of sports.api', 'siad command']) {
    await next.getByRole('button', { name: `Copy ${label}`, exact: true }).click();
    await next.getByRole('status').filter({ hasText: 'Copied' }).first().waitFor();
    const shown = await next.getByLabel(label, { exact: true }).textContent();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), shown, `the clipboard holds ${label}`);
  }

  // A browser without the Clipboard API (or that refuses it): the text is selected and copied with execCommand.
  await context.close();
  const bare = await adminAt({ width: 1280, height: 800 });
  const old = bare.page;
  await old.addInitScript(() => {
    Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true });
    const w = window as unknown as { copied?: string };
    document.execCommand = (command: string) => {
      if (command !== 'copy') return false;
      w.copied = String(window.getSelection());
      return true;
    };
  });
  await old.goto(`${origin}/domain/sports/services`);
  await old.getByRole('button', { name: 'Providers of api' }).click();
  const oldNext = old.getByRole('region', { name: 'Next steps' });
  await oldNext.getByRole('button', { name: 'Copy siad command' }).click();
  await oldNext.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
  assert.equal(await old.evaluate(() => (window as unknown as { copied?: string }).copied), await oldNext.getByLabel('siad command', { exact: true }).textContent());
  await bare.context.close();
});

/**
 * Runs commands as a user would paste them: in a fresh directory with the
 * repository's packages, the `aws-sim.env` aws-sim writes (for this test's
 * aws-sim) and the server's CA at ./data/ca.cert.pem. Returns the output;
 * fails on the first failing command. Only loopback is reached.
 */
async function runLocally(commands: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ui-local-'));
  try {
    for (const entry of ['packages', 'node_modules', 'package.json']) symlinkSync(join(ROOT, entry), join(dir, entry));
    mkdirSync(join(dir, 'data'));
    copyFileSync(join(t.dataDir, 'ca.cert.pem'), join(dir, 'data/ca.cert.pem'));
    const env = { ...sim.rootCredentials('123456789012').env, AWS_SIM_URL: sim.url, AWS_SIM_ADMIN_TOKEN: sim.adminToken };
    writeFileSync(join(dir, 'aws-sim.env'), Object.entries(env).map(([k, v]) => `export ${k}='${v}'`).join('\n') + '\n');
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const shell = { PATH: process.env.PATH ?? '', HOME: dir, LANG: 'C.UTF-8', npm_config_update_notifier: 'false' };
      const child = spawn('bash', ['-c', `set -eo pipefail\n${commands}`], { cwd: dir, env: shell, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (code) => resolve({ code, out }));
    });
    assert.equal(run.code, 0, `the local commands failed:\n${run.out}`);
    assert.match(run.out, /✓ ZTS's verdict: .* a register would succeed/, 'siad -cmd diagnose passed');
    return run.out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('Next steps "Locally (aws-sim)": its commands, run as shown against aws-sim, give the service a certificate by token on EKS and by STS on Fargate; the instance shows platform and host name', { timeout: 120_000 }, async () => {
  const { context, page } = await adminAt({ width: 390, height: 844 });
  await page.goto(`${origin}/domain/sports/services`);
  await page.getByRole('button', { name: 'Providers of api' }).click();
  const next = page.getByRole('region', { name: 'Next steps' });
  await next.getByRole('tab', { name: 'Locally (aws-sim)' }).click();
  const start = (await next.getByLabel('Start aws-sim and the server', { exact: true }).textContent()) ?? '';
  assert.equal(start, [
    'rm -f serve-aws.env',
    'npx tessera aws-sim --port 4566 --account 123456789012 --region us-west-2 --env-out aws-sim.env --serve-env-out serve-aws.env &',
    'while [ ! -f serve-aws.env ]; do sleep 0.2; done',
    '(. ./serve-aws.env && npx tessera serve --data-dir ./data)',
  ].join('\n'));
  // The token path is the one shown first, as in the README.
  assert.ok(await next.getByRole('radio', { name: 'EKS pod, projected token (no STS call)' }).isChecked());
  const ztsPort = new URL(t.server.ztsUrl).port;
  const eks = (await next.getByLabel('Local commands', { exact: true }).textContent()) ?? '';
  assert.match(eks, /create-role --role-name oidc-issuers-reader .*arn:aws:iam::999999999999:user\/zts/);
  assert.ok(eks.includes(`launch-pod --role sports.api-pod --account 123456789012 --cluster sports \\\n  --namespace sports --service-account sports.api --token-audience https://localhost:${ztsPort}/zts/v1 > task.env`), eks);
  await next.screenshot({ path: join(SHOTS, 'next-steps-local-390.png') });
  assert.equal((await hiddenCells(page)).problems.length, 0);

  const byToken = await runLocally(eks);
  assert.match(byToken, /subject=.*CN ?= ?sports\.api$/m, 'the certificate siad wrote');
  assert.match(byToken, /attestation by eks-token/);
  assert.doesNotMatch(byToken, /attestation by sts/);

  // The STS fallback on Fargate, for another service (the oidc-issuers-reader step is for EKS only).
  await page.getByRole('button', { name: 'Providers of api' }).click(); // closes them: one Next steps at a time
  await page.getByRole('button', { name: 'Providers of keys' }).click();
  await next.getByRole('tab', { name: 'Locally (aws-sim)' }).click();
  await next.getByRole('radio', { name: 'EKS pod, Pod Identity credentials (STS)' }).check();
  assert.match((await next.getByLabel('Local commands', { exact: true }).textContent()) ?? '', /launch-pod --role sports\.keys-service --mode pod-identity/);
  await next.getByRole('radio', { name: 'Fargate task (STS)' }).check();
  const fargate = (await next.getByLabel('Local commands', { exact: true }).textContent()) ?? '';
  assert.match(fargate, /create-role --role-name sports\.keys-service/);
  assert.match(fargate, /launch-task --task-role sports\.keys-service --account 123456789012/);
  const bySts = await runLocally(fargate);
  assert.match(bySts, /subject=.*CN ?= ?sports\.keys$/m);
  assert.match(bySts, /attestation by sts/);

  // The instance siad registered: its platform (from siad's User-Agent) and host name (sent at register).
  await page.goto(`${origin}/domain/sports/services/keys/instances`);
  const row = page.locator('tr[data-instance]', { hasText: 'Fargate' }).first();
  await row.waitFor();
  if (isDomainName(hostname())) assert.ok(((await row.textContent()) ?? '').includes(hostname().toLowerCase()), 'the host name siad sent');
  assert.deepEqual((await hiddenCells(page)).problems, []);
  await context.close();
});

test('an invalid or expired session shows the reason on the login page; logging in again returns to the page', async () => {
  const { context, page } = await open();
  const forged = { name: 'tessera_session', value: 'v%3DU1%3Bd%3Duser%3Bn%3Dadmin%3Bs%3Dforged', domain: 'localhost', path: '/', secure: true, httpOnly: true, sameSite: 'Strict' as const };
  await context.addCookies([forged]);
  await page.goto(`${origin}/domain/sports/history`);
  await page.waitForURL(/\/login\?next=/);
  await page.getByRole('status').filter({ hasText: 'Your session has expired: log in again.' }).waitFor();
  await shot(page, 'session-expired');
  await context.close();

  // Mid-session: the admin's session stops being valid; the next action asks to log in again over the page.
  const { page: adminPage, context: adminContext } = admin;
  await adminPage.goto(`${origin}/domain/sports/services`);
  await adminPage.getByRole('button', { name: 'Add a Service' }).click();
  const addDialog = adminPage.getByRole('dialog', { name: 'Add a Service to sports' });
  await addDialog.getByLabel('Service name').fill('kept');
  await addDialog.getByLabel('Description').fill('Typed before the session ran out');
  await adminContext.addCookies([forged]);
  await addDialog.getByRole('button', { name: 'Add a Service' }).click();
  const relogin = adminPage.getByRole('dialog', { name: 'Log in again' });
  await relogin.getByText('Your session has expired: log in again. What you were doing is kept.').waitFor();
  assert.equal(new URL(adminPage.url()).pathname, '/domain/sports/services', 'the page stays');
  assert.equal(await relogin.getByLabel('User name').inputValue(), 'admin', 'the user name is filled in');
  assert.equal(await adminPage.evaluate(() => document.activeElement?.getAttribute('name')), 'password', 'focus is on the password');
  await addDialog.getByRole('button', { name: 'Add a Service' }).waitFor(); // the request is over ("Adding…" is gone)
  assert.equal(await addDialog.getByRole('alert').count(), 0, 'no raw 401 text behind the Log in again dialog');
  await shot(adminPage, 'relogin');
  await adminPage.keyboard.type(ADMIN_PASSWORD);
  await adminPage.keyboard.press('Enter');
  await relogin.waitFor({ state: 'hidden' });
  // The dialog and what was typed in it are still there: send it again.
  assert.equal(await addDialog.getByLabel('Service name').inputValue(), 'kept');
  assert.equal(await addDialog.getByLabel('Description').inputValue(), 'Typed before the session ran out');
  assert.equal(await addDialog.getByRole('alert').count(), 0, 'the expired-session error is gone once logged in again');
  await addDialog.getByRole('button', { name: 'Add a Service' }).click();
  await adminPage.getByRole('status').filter({ hasText: 'Service sports.kept added' }).waitFor();
  await addDialog.waitFor({ state: 'hidden' }); // it closes after the banner: the tabs below take clicks again
  assert.equal((await t.admin.call('GET', '/domain/sports/service/kept')).status, 200);
  // The list's follow-up loads (providers, instance counts) are done before the session is spoiled again.
  await adminPage.locator('[data-service="kept"]').getByTestId('launch-status').waitFor();
  await adminPage.getByRole('link', { name: 'Instances of kept: 0' }).waitFor();

  // A list that failed because the session ran out loads again after logging in again.
  await adminContext.addCookies([forged]);
  await adminPage.getByRole('tab', { name: 'History' }).click();
  await relogin.waitFor();
  await adminPage.getByText('Loading history…').waitFor({ state: 'detached' }); // the load is over
  assert.equal(await adminPage.locator('.load-failure').count(), 0, 'the list behind the dialog shows no 401 text');
  await relogin.getByLabel('Password').fill(ADMIN_PASSWORD);
  await relogin.getByRole('button', { name: 'Log in' }).click();
  await adminPage.getByRole('table').getByText('Removed an assertion').first().waitFor();
  assert.equal(new URL(adminPage.url()).pathname, '/domain/sports/history');

  // The browser dropped the expired cookie, then the page is reloaded: still told why.
  await adminContext.clearCookies();
  await adminPage.reload();
  await adminPage.waitForURL(/\/login\?next=/);
  await adminPage.getByText('Your session has expired: log in again.').waitFor();
  await adminPage.getByLabel('User name').fill('admin');
  await adminPage.getByLabel('Password').fill(ADMIN_PASSWORD);
  await adminPage.getByRole('button', { name: 'Log in' }).click();
  await adminPage.waitForURL(/\/domain\/sports\/history$/);

  // Log out: back to the login page, and the session cookie is gone.
  await adminPage.getByRole('button', { name: 'Log out' }).click();
  await adminPage.getByText('You have logged out.').waitFor();
  assert.equal((await adminContext.cookies()).some((c) => c.name === 'tessera_session' && c.value !== ''), false);
  await adminPage.goto(`${origin}/`);
  await adminPage.waitForURL(/\/login$/);
  await adminContext.close();
});
