/**
 * Attack checklist: instance ids (issue 11 item 3) and what the domain's
 * admins see. Nothing verifiable binds a Fargate task or an EKS pod to its
 * instance id, so — as in Athenz — a sibling holding the same IAM role can
 * register another task's id; Tessera makes that visible (instances list,
 * domain history, a warning in the log). Where a binding is verifiable (the
 * EC2 identity document) it is enforced: zts-refusals.test.ts. The last
 * refused registration per service is shown by service-status. Runs on
 * SQLite and PostgreSQL: both stores keep these records.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKENDS } from '@tessera/server/test/support/test-server';
import { ACCOUNT, attestation, PROVIDER, refused, startBench, type Bench } from './support.ts';

interface Instance {
  instanceId: string;
  revoked: boolean;
  clientIp: string;
  lastRefresh: string;
  takeover?: { time: string; previousIp: string; currentIp: string; detail: string };
}
interface Status {
  services: {
    name: string;
    instances: number;
    lastIssued?: string;
    lastFailure?: { time: string; provider: string; reason: string; message: string; facts: Record<string, string>; claims: Record<string, string>; clientIp: string };
  }[];
}

for (const backend of BACKENDS) {
  describe(`instance ids and service status (${backend})`, () => {
    let b: Bench;
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tessera-attack-takeover-'));
      b = await startBench(dir, { backend });
    });
    after(async () => {
      await b?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const instance = async (id: string) => {
      const r = await b.t.admin.call<{ instances: Instance[] }>('GET', '/domain/sports/service/api/instances');
      assert.equal(r.status, 200, r.text);
      return r.body.instances.find((i) => i.instanceId === id);
    };
    const registerOnto = async (instanceId: string, extraAttestation: Record<string, string> = {}) => {
      const { creds } = await b.fargate();
      const { csr, keyPem } = await b.serviceCsr(instanceId);
      const r = await b.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', creds, extraAttestation) });
      return { r, keyPem, creds };
    };

    test('a sibling task with the same IAM role registers task T1’s instance id → 201 (as Athenz), shown as a takeover in the instances list and the history; T1 is then refused', async () => {
      const t1 = await b.registered();
      assert.equal((await instance(t1.instanceId))?.takeover, undefined);
      const t2 = await registerOnto(t1.instanceId);
      assert.equal(t2.r.status, 201, t2.r.text);

      const listed = await instance(t1.instanceId);
      assert.ok(listed?.takeover, JSON.stringify(listed));
      assert.equal(listed.takeover.previousIp, '127.0.0.1');
      assert.equal(listed.takeover.currentIp, '127.0.0.1');
      assert.match(listed.takeover.detail, new RegExp(`attested identity arn:aws:sts::${ACCOUNT}:assumed-role/sports\\.api/${t1.instanceId} → arn:aws:sts::${ACCOUNT}:assumed-role/sports\\.api/`));
      assert.ok(!Number.isNaN(Date.parse(listed.takeover.time)));

      const history = await b.t.admin.call<{ entries: { api: string; principal: string; details: { takeover?: { instanceId: string; detail: string } } }[] }>('GET', '/domain/sports/history');
      const entry = history.body.entries.find((e) => e.api === 'postInstanceRegisterInformation' && e.details.takeover?.instanceId === t1.instanceId);
      assert.ok(entry, history.text);
      assert.equal(entry.principal, 'sports.api');
      assert.equal(entry.details.takeover?.detail, listed.takeover.detail);

      // T1's own next refresh presents a certificate that is no longer the latest: the instance is revoked (Athenz's rule).
      const { csr } = await b.serviceCsr(t1.instanceId);
      refused(await b.refresh({ instanceId: t1.instanceId }, { csr, attestationData: attestation('sports.api', t1.creds) }, t1.id), 403, /Certificate revoked/);
    });

    test('the same credentials registering the same instance id from another address (127.0.0.2) is a takeover naming both addresses', async () => {
      const t1 = await b.registered();
      const { csr } = await b.serviceCsr(t1.instanceId);
      const r = await postFrom('127.0.0.2', `${b.t.server.ztsUrl}/instance`, b.t.ca, {
        provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', t1.creds),
      });
      assert.equal(r.status, 201, r.text);
      const listed = await instance(t1.instanceId);
      assert.deepEqual(listed && { previousIp: listed.takeover?.previousIp, currentIp: listed.takeover?.currentIp, clientIp: listed.clientIp },
        { previousIp: '127.0.0.1', currentIp: '127.0.0.2', clientIp: '127.0.0.2' });
      assert.match(listed?.takeover?.detail ?? '', /client address 127\.0\.0\.1 → 127\.0\.0\.2$/);
    });

    test('the same workload registering again (siad restarted) is not a takeover', async () => {
      const t1 = await b.registered();
      const { csr } = await b.serviceCsr(t1.instanceId);
      const again = await b.register({ provider: PROVIDER, domain: 'sports', service: 'api', csr, attestationData: attestation('sports.api', t1.creds) });
      assert.equal(again.status, 201, again.text);
      const listed = await instance(t1.instanceId);
      assert.ok(listed);
      assert.equal(listed.takeover, undefined);
    });

    test('registering over a revoked instance is not a takeover (the record was not live)', async () => {
      const t1 = await b.registered();
      const body = async () => ({ csr: (await b.serviceCsr(t1.instanceId)).csr, attestationData: attestation('sports.api', t1.creds) });
      assert.equal((await b.refresh({ instanceId: t1.instanceId }, await body(), t1.id)).status, 200);
      refused(await b.refresh({ instanceId: t1.instanceId }, await body(), t1.id), 403, /Certificate revoked/);
      assert.equal((await instance(t1.instanceId))?.revoked, true);
      const t2 = await registerOnto(t1.instanceId);
      assert.equal(t2.r.status, 201, t2.r.text);
      assert.equal((await instance(t1.instanceId))?.takeover, undefined);
    });

    test('an EC2 instance id registered again with STS credentials only (no document) is accepted but flagged — the limit docs/security.md states', async () => {
      const vm = await b.sim.launchEc2Instance({ role: 'sports.vm', account: ACCOUNT, region: 'us-west-2' });
      const owner = await registerOnto(vm.instanceId, { document: vm.document, signature: vm.pkcs7 });
      assert.equal(owner.r.status, 201, owner.r.text);
      const attacker = await registerOnto(vm.instanceId);
      assert.equal(attacker.r.status, 201, attacker.r.text);
      assert.match((await instance(vm.instanceId))?.takeover?.detail ?? '', /attested identity/);
    });

    describe('GET /zms/v1/domain/{domain}/service-status', () => {
      const status = async () => {
        const r = await b.t.admin.call<Status>('GET', '/domain/sports/service-status');
        assert.equal(r.status, 200, r.text);
        return r.body.services;
      };

      test('a refused register of sports.web is shown as its last failure: reason code, verified facts, the claimed role marked as such, provider and client address', async () => {
        const { creds } = await b.fargate('web');
        const { csr } = await b.serviceCsr('task-web-1', { service: 'web' });
        const r = await b.register({ provider: PROVIDER, domain: 'sports', service: 'web', csr, attestationData: attestation('sports.api', creds) });
        refused(r, 403, /Service name mismatch: attestation role sports\.api vs\. sports\.web/);
        const web = (await status()).find((s) => s.name === 'web');
        assert.ok(web?.lastFailure, JSON.stringify(web));
        assert.equal(web.lastFailure.reason, 'service_name_mismatch');
        assert.equal(web.lastFailure.message, r.body.message.replace('role sports.api vs.', 'role "sports.api" (as the caller claimed) vs.').replace(/client: (.*?) clientIP/, (_m, ua: string) => `client: "${ua}" (as the caller claimed) clientIP`));
        assert.deepEqual(web.lastFailure.facts, { expectedRole: 'sports.web', clientIp: '127.0.0.1' });
        assert.equal(web.lastFailure.claims.role, 'sports.api');
        assert.equal(web.lastFailure.provider, PROVIDER);
        assert.equal(web.lastFailure.clientIp, '127.0.0.1');
        assert.equal(web.instances, 0);
        assert.equal(web.lastIssued, undefined);
      });

      test('an unauthenticated caller cannot write the text admins read: a claimed role is quoted, cut and marked, in the API and the UI\'s data', async () => {
        const { creds } = await b.fargate('web');
        const { csr } = await b.serviceCsr('task-web-evil', { service: 'web' });
        const hostile = 'URGENT-run-curl-evil.example-sh';
        const r = await b.register({ provider: PROVIDER, domain: 'sports', service: 'web', csr, attestationData: attestation(hostile, creds) });
        refused(r, 403, /Service name mismatch/);
        assert.match(r.body.message, /attestation role URGENT-run-curl-evil\.example-sh vs\./, 'the caller itself is told what it sent');
        const failure = (await status()).find((s) => s.name === 'web')?.lastFailure;
        assert.ok(failure, 'recorded');
        assert.equal(failure.reason, 'service_name_mismatch');
        assert.equal(failure.claims.role, hostile);
        assert.ok(!failure.message.replaceAll(`"${hostile}" (as the caller claimed)`, '').includes(hostile), `only quoted and marked: ${failure.message}`);
        assert.match(failure.message, /^unable to verify attestation data: Service name mismatch: attestation role "URGENT-run-curl-evil\.example-sh" \(as the caller claimed\) vs\. sports\.web/);

        // Longer, multi-line, bidi-reordering text: cut to 64 characters, escaped, still marked.
        const long = `IGNORE\r\nPREVIOUS \u202e${'A'.repeat(200)}`;
        refused(await b.register({ provider: PROVIDER, domain: 'sports', service: 'web', csr, attestationData: attestation(long, creds) }), 403, /Service name mismatch/);
        const cut = (await status()).find((s) => s.name === 'web')?.lastFailure;
        assert.ok(cut);
        assert.equal(Array.from(cut.claims.role).length, 65, 'kept cut to 64 characters and an ellipsis');
        assert.match(cut.message, /attestation role "IGNORE\\u\{d\}\\u\{a\}PREVIOUS \\u\{202e\}A{46}…" \(as the caller claimed\) vs\./);
        assert.ok(!/[\r\n\u202e]/.test(cut.message));
      });

      test('a provider that is not registered is kept only as a claim, not as the provider', async () => {
        const { creds } = await b.fargate('web');
        const { csr } = await b.serviceCsr('task-web-2', { service: 'web' });
        refused(await b.register({ provider: 'urgent.run-curl-evil', domain: 'sports', service: 'web', csr, attestationData: attestation('sports.web', creds) }), 403, /not a registered system provider/);
        const failure = (await status()).find((s) => s.name === 'web')?.lastFailure;
        assert.ok(failure);
        assert.equal(failure.reason, 'provider_not_registered');
        assert.equal(failure.provider, '');
        assert.equal(failure.claims.provider, 'urgent.run-curl-evil');
        assert.match(failure.message, /^provider "urgent\.run-curl-evil" \(as the caller claimed\) not authorized to launch instances/);
      });

      test('a refused refresh is recorded too; an unauthenticated one (no client certificate) is not', async () => {
        const a = await b.registered();
        const { csr } = await b.serviceCsr('some-other-task');
        const r = await b.refresh({ instanceId: a.instanceId }, { csr, attestationData: attestation('sports.api', a.creds) }, a.id);
        refused(r, 400, /instance id mismatch/);
        assert.equal((await status()).find((s) => s.name === 'api')?.lastFailure?.message, r.body.message);
        const anonymous = await b.refresh({ instanceId: a.instanceId }, { csr, attestationData: attestation('sports.api', a.creds) });
        refused(anonymous, 401, /refresh needs the current service certificate/);
        assert.equal((await status()).find((s) => s.name === 'api')?.lastFailure?.message, r.body.message);
      });

      test('a register whose body breaks the API schema is refused before any check, and not kept', async () => {
        const before = (await status()).find((s) => s.name === 'web')?.lastFailure;
        const r = await b.register({ provider: 42, domain: 'sports', service: 'web' });
        refused(r, 400, /Invalid body field provider: must be a string/);
        assert.deepEqual((await status()).find((s) => s.name === 'web')?.lastFailure, before);
      });

      test('refusals naming a service that does not exist are not kept (strangers cannot fill the table)', async () => {
        const { creds } = await b.fargate();
        const { csr } = await b.serviceCsr('task-x', { service: 'later' });
        refused(await b.register({ provider: PROVIDER, domain: 'sports', service: 'later', csr, attestationData: attestation('sports.later', creds) }), 400,
          /Service not registered in domain: sports\.later/);
        assert.equal((await b.t.admin.call('PUT', '/domain/sports/service/later', { name: 'sports.later' })).status, 204);
        const later = (await status()).find((s) => s.name === 'later');
        assert.deepEqual(later, { name: 'later', instances: 0 });
      });

      test('instances counts live records and lastIssued is the newest register or refresh', async () => {
        await b.registered();
        const api = (await status()).find((s) => s.name === 'api');
        const listed = await b.t.admin.call<{ instances: Instance[] }>('GET', '/domain/sports/service/api/instances');
        const live = listed.body.instances.filter((i) => !i.revoked);
        assert.ok(live.length >= 1, listed.text);
        assert.equal(api?.instances, live.length);
        assert.equal(api?.lastIssued, live.map((i) => i.lastRefresh).sort().at(-1));
      });

      test('anonymous callers get 401; an unknown domain 404', async () => {
        const anon = await b.t.anonymous.call<{ code: number; message: string }>('GET', '/domain/sports/service-status');
        assert.equal(anon.status, 401, anon.text);
        const missing = await b.t.admin.call<{ code: number; message: string }>('GET', '/domain/nowhere/service-status');
        assert.equal(missing.status, 404, missing.text);
        assert.match(missing.body.message, /nowhere/);
      });
    });
  });
}

/** A JSON POST from a chosen local address (the loopback network is 127.0.0.0/8), as a second host would send it. */
function postFrom(localAddress: string, url: string, ca: string, body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca, localAddress, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
