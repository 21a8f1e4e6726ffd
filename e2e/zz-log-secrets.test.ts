/**
 * No secret in any log line. Runs last (scripts/test.sh puts it at the end):
 * every test server of the suite logs everything, at debug level, to
 * TEST_LOG_DIR, and this file scans them all. It also drives a server of its
 * own through sign-ins, tokens and certificate issuance, so it checks
 * something even when run alone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { startTestServer, TEST_LOG_DIR, type TestServer } from '@tessera/server/test/support/test-server';
import { driveCertFlow, setUpSports } from '@tessera/server/test/support/cert-flow';
import { findSecrets } from '@tessera/server/test/support/log-secrets';

let sim: AwsSim;
let t: TestServer;
let ownLog: string;
let refused: string;

before(async () => {
  sim = await startAwsSim();
  t = await startTestServer('sqlite', { awsStsEndpoint: sim.url });
  await setUpSports(t, sim);
  ({ refused } = await driveCertFlow(t, sim));
  await t.close();
  ownLog = readFileSync(join(TEST_LOG_DIR, `${t.dataDir.split('/').pop()}.log`), 'utf8');
});

after(async () => {
  await sim?.close();
});

describe('log lines hold no secrets', () => {
  test('the scanner finds each kind of secret', () => {
    const planted = [
      '{"msg":"-----BEGIN PRIVATE KEY-----"}',
      '{"token":"v=U1;d=user;n=admin;t=1;e=2;s=abcdefghijklmnopqrstuvwxyz"}',
      '{"jwt":"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"}',
      '{"body":{"user":"admin","password":"x"}}',
      '{"headers":{"cookie":"tessera_session=abc"}}',
      '{"headers":{"authorization":"Bearer abcdefghijkl"}}',
      '{"attestationData":"{}"}',
    ].join('\n');
    assert.deepEqual(findSecrets(planted).map((f) => f.kind), [
      'PEM private key', 'Athenz principal token', 'JWT', 'password', 'cookie', 'Authorization header', 'AWS secret',
    ]);
  });

  test("this file's own server logged its events, each line with an id, and no secret", () => {
    const lines = ownLog.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = lines.map((l) => l.event);
    for (const e of ['signin.failure', 'signin.success', 'cert.issued', 'cert.refused', 'request']) assert.ok(events.includes(e), `no ${e} line`);
    assert.equal(lines.filter((l) => l.event === 'cert.issued').length, 3, 'register, refresh, role certificate');
    const refusal = lines.find((l) => l.event === 'cert.refused')!;
    assert.equal(refusal.reason, refused);
    assert.equal(refusal.service, 'nosuch');
    for (const l of lines.filter((x) => x.event === 'request')) assert.match(String(l.reqId), /^[0-9a-f]{12}$/);
    assert.ok(lines.some((l) => l.event === 'request' && l.principal === 'user.admin'), 'ZMS request lines name the principal');
    assert.ok(lines.some((l) => l.event === 'request' && l.principal === 'sports.api' && l.server === 'zts'), 'ZTS request lines name the mTLS principal');
    assert.deepEqual(findSecrets(ownLog), []);
  });

  test('every log file of the suite is free of secrets', () => {
    const files = existsSync(TEST_LOG_DIR) ? readdirSync(TEST_LOG_DIR).filter((f) => f.endsWith('.log')) : [];
    assert.ok(files.length >= 1);
    const findings = files.flatMap((f) => findSecrets(readFileSync(join(TEST_LOG_DIR, f), 'utf8')).map((x) => `${f}:${x.line} ${x.kind}: ${x.text}`));
    assert.deepEqual(findings, []);
    // Checked: start the next run with an empty directory.
    for (const f of files) rmSync(join(TEST_LOG_DIR, f), { force: true });
  });
});
