// Walks Athenz's own UI, started by scripts/try-athenz-ui.sh, in headless
// Chromium: its login page, home, a domain's roles, services, Add Service, the
// service's instances, Allow provider, policies and history. Prints every
// failed request, console error and request to another host it saw, and
// each page's screenshot path.
//
//   node scripts/drive-athenz-ui.mjs https://localhost:3000 [user] [password] [domain]
//
// Not part of `npm test` (it needs the UI running); exits 1 when a page shows
// an error or a call failed.
import { chromium } from 'playwright-core';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base = 'https://localhost:3000', user = 'jane', password = 'jane-password', domain = 'sports'] = process.argv.slice(2);
const shots = mkdtempSync(join(tmpdir(), 'athenz-ui-shots-'));
const service = `svc${Date.now() % 100000}`;
const problems = [];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
});
const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 1000 } });
const page = await context.newPage();
let step = 'start';
page.on('console', (m) => m.type() === 'error' && problems.push(`[${step}] console: ${m.text()}`));
page.on('pageerror', (e) => problems.push(`[${step}] page error: ${e.message}`));
page.on('requestfailed', (r) => r.failure()?.errorText !== 'net::ERR_ABORTED' && problems.push(`[${step}] request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
// Everything stays on this machine: a request to any other host is a problem (and is not sent).
await context.route(/.*/, (route) => {
  const host = new URL(route.request().url()).hostname;
  if (['localhost', '127.0.0.1', '[::1]'].includes(host) || route.request().url().startsWith('data:')) return route.continue();
  problems.push(`[${step}] the page tried to reach ${route.request().url()} (blocked)`);
  return route.abort();
});
page.on('response', async (r) => {
  if (r.status() < 400) return;
  let body = '';
  try { body = (await r.text()).slice(0, 300); } catch { /* no body */ }
  problems.push(`[${step}] ${r.status()} ${r.request().method()} ${r.url()} ${body}`);
});

async function visit(name, path, waitFor) {
  step = name;
  try {
    await page.goto(`${base}${path}`, { waitUntil: 'load' });
    await page.waitForLoadState('networkidle', { timeout: 15_000 });
  } catch (e) {
    problems.push(`[${name}] ${e.message.split('\n')[0]}`);
  }
  if (waitFor) await page.getByText(waitFor, { exact: false }).first().waitFor({ timeout: 15_000 }).catch((e) => problems.push(`[${name}] did not show "${waitFor}": ${e.message.split('\n')[0]}`));
  const file = join(shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`${name}: ${page.url()} -> ${file}`);
}

// The login page: its own form, its own fetch to ZMS, its own /login hand-off.
step = 'login';
await page.goto(`${base}/login`, { waitUntil: 'networkidle' });
await page.getByPlaceholder('Enter Username').fill(user);
await page.getByPlaceholder('Enter Password').fill(password);
await page.getByRole('button', { name: 'Login' }).click();
await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 20_000 }).catch(() => problems.push('[login] stayed on /login'));
await page.waitForLoadState('networkidle');
await page.screenshot({ path: join(shots, 'login.png'), fullPage: true });
console.log(`login: ${page.url()}`);

await visit('home', '/', domain);
await visit('roles', `/domain/${domain}/role`, 'admin');
await visit('services', `/domain/${domain}/service`, 'Add Service');

// Add Service, as the guide's first step.
step = 'add-service';
try {
  await page.getByRole('button', { name: 'Add Service' }).first().click();
  await page.locator('#service-name').fill(service);
  await page.locator('button', { hasText: 'Submit' }).click({ timeout: 10_000 });
  await page.locator(`[id="${service}-providers"]`).waitFor({ timeout: 15_000 });
  console.log(`add-service: ${service}`);
} catch (e) {
  problems.push(`[add-service] ${e.message.split('\n')[0]}`);
}
await page.screenshot({ path: join(shots, 'add-service.png'), fullPage: true });

// Allow the AWS provider to launch it (the service row's Providers button).
step = 'providers';
try {
  await page.locator(`[id="${service}-providers"]`).click({ timeout: 5_000 });
  const allow = page.locator('[data-testid="provider-table"] button', { hasText: 'Allow' });
  await allow.click({ timeout: 10_000 });
  await page.waitForLoadState('networkidle');
  // Reopened after a reload, the provider shows a checkmark instead of Allow when ZMS grants it launch.
  await page.reload({ waitUntil: 'load' });
  await page.locator(`[id="${service}-providers"]`).click({ timeout: 15_000 });
  await page.locator('[data-testid="provider-table"] svg').first().waitFor({ timeout: 10_000 });
  if (await allow.count()) problems.push('[providers] still offers Allow after it was allowed');
  await page.screenshot({ path: join(shots, 'providers.png'), fullPage: true });
  console.log('providers: clicked Allow');
} catch (e) {
  await page.screenshot({ path: join(shots, 'providers.png'), fullPage: true });
  problems.push(`[providers] ${e.message.split('\n')[0]}`);
}

// Add a public key to the service, then delete it (the Public Keys sub-row).
step = 'add-key';
try {
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  await page.goto(`${base}/domain/${domain}/service`, { waitUntil: 'load' });
  await page.locator('tr', { hasText: service }).locator('svg').nth(1).click({ timeout: 15_000 });
  await page.getByText('Add Key').click({ timeout: 10_000 });
  await page.locator('#key-id').fill('k1');
  await page.locator('#key-value').fill(pem);
  await page.locator('button', { hasText: 'Submit' }).click({ timeout: 10_000 });
  await page.getByText('Public Key Version: k1').waitFor({ timeout: 15_000 });
  await page.screenshot({ path: join(shots, 'add-key.png'), fullPage: true });
  console.log('add-key: k1');
  step = 'delete-key';
  await page.locator('[data-testid="public-key-table"] svg').last().click({ timeout: 10_000 });
  await page.locator('button', { hasText: 'Delete' }).last().click({ timeout: 10_000 });
  await page.getByText(/Successfully deleted key id k1/).waitFor({ timeout: 15_000 });
  console.log('delete-key: k1');
} catch (e) {
  await page.screenshot({ path: join(shots, `${step}.png`), fullPage: true });
  problems.push(`[${step}] ${e.message.split('\n')[0]}`);
}

await visit('instances', `/domain/${domain}/service/${service}/instance/dynamic`, 'Instances');
await visit('static-instances', `/domain/${domain}/service/${service}/instance/static`);
await visit('policies', `/domain/${domain}/policy`, 'admin');
await visit('history', `/domain/${domain}/history`, 'History');

for (const tab of ['group', 'tags', 'template', 'domain-settings', 'visibility', 'microsegmentation']) await visit(`tab-${tab}`, `/domain/${domain}/${tab}`);
await visit('role-members', `/domain/${domain}/role/admin/members`, 'user.');

// A sub domain, from the sidebar's Create page.
step = 'create-subdomain';
try {
  await page.goto(`${base}/domain/create`, { waitUntil: 'load' });
  await page.getByText('Sub Domain', { exact: true }).click({ timeout: 15_000 });
  await page.getByPlaceholder('Enter an existing domain').fill(domain);
  await page.getByPlaceholder('Enter a new sub-domain').fill(`sub${service.slice(3)}`);
  await page.locator('button', { hasText: 'Submit' }).click({ timeout: 10_000 });
  await page.waitForURL((u) => u.pathname === `/domain/${domain}.sub${service.slice(3)}/role`, { timeout: 20_000 });
  await page.waitForLoadState('networkidle');
  console.log(`create-subdomain: ${page.url()}`);
} catch (e) {
  problems.push(`[${step}] ${e.message.split('\n')[0]}`);
}
await page.screenshot({ path: join(shots, 'create-subdomain.png'), fullPage: true });

// Delete the service added above (the Services tab's trash icon).
step = 'delete-service';
try {
  await page.goto(`${base}/domain/${domain}/service`, { waitUntil: 'load' });
  await page.locator(`[id="delete-service-${service}"]`).click({ timeout: 15_000 });
  await page.locator('button', { hasText: 'Delete' }).last().click({ timeout: 10_000 });
  await page.getByText(`Successfully deleted service ${service}`).waitFor({ timeout: 15_000 });
  console.log(`delete-service: ${service}`);
} catch (e) {
  problems.push(`[${step}] ${e.message.split('\n')[0]}`);
}
await page.screenshot({ path: join(shots, 'delete-service.png'), fullPage: true });

await browser.close();
console.log(`\nscreenshots: ${shots}`);
if (problems.length) {
  console.log(`\n${problems.length} problem(s):`);
  for (const p of problems) console.log(`- ${p}`);
  process.exit(1);
}
console.log('no failed call, no console error');
