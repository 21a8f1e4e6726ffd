/**
 * No secret in any log line. Runs last (scripts/test.sh puts it at the end):
 * every test server of the suite logs everything, at debug level, to
 * TEST_LOG_DIR, and this file scans them all. It also drives a server of its
 * own through sign-ins, tokens and certificate issuance, so it checks
 * something even when run alone. Under scripts/test.sh (which exports
 * TESSERA_TEST_LOG_DIR for the run) it also requires the logs of the other
 * test files' servers: a scan of its own log alone proves little.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { startTestServer, TEST_LOG_DIR, type TestServer } from '@tessera/server/test/support/test-server';
import { driveCertFlow, setUpSports } from '@tessera/server/test/support/cert-flow';
import { findSecrets } from '@tessera/server/test/support/log-secrets';

let sim: AwsSim;
let t: TestServer;
let ownName: string;
let ownLog: string;
let refused: string;

/** Set by scripts/test.sh for the whole run: then the other test files' servers have logged here. */
const SUITE_RUN = process.env.TESSERA_TEST_LOG_DIR !== undefined;
/** Far fewer than the suite's test servers write, far more than this file's one. */
const MIN_OTHER_LOGS = 10;

/** Every secret found in these log files, as `file:line kind: text`. */
const scan = (dir: string, files: string[]) =>
  files.flatMap((f) => findSecrets(readFileSync(join(dir, f), 'utf8')).map((x) => `${f}:${x.line} ${x.kind}: ${x.text}`));

before(async () => {
  sim = await startAwsSim();
  t = await startTestServer('sqlite', { awsStsEndpoint: sim.url });
  await setUpSports(t, sim);
  ({ refused } = await driveCertFlow(t, sim));
  await t.close();
  ownName = `${t.dataDir.split('/').pop()}.log`;
  ownLog = readFileSync(join(TEST_LOG_DIR, ownName), 'utf8');
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

  test('every log file of the suite is free of secrets', (ctx) => {
    const files = readdirSync(TEST_LOG_DIR).filter((f) => f.endsWith('.log'));
    const others = files.filter((f) => f !== ownName && statSync(join(TEST_LOG_DIR, f)).size > 0);
    if (SUITE_RUN) {
      assert.ok(others.length >= MIN_OTHER_LOGS,
        `${TEST_LOG_DIR} holds ${others.length} log files of other test servers (at least ${MIN_OTHER_LOGS} expected): the suite's test servers must log there, and scripts/test.sh runs this file last`);
    } else {
      ctx.diagnostic(`run alone (TESSERA_TEST_LOG_DIR not set): ${others.length} other log files scanned; scripts/test.sh checks that the suite's logs are there`);
    }
    // The scan reads these files as they are: a copy of one with a private key appended is caught, at its line.
    const planted = mkdtempSync(join(tmpdir(), 'tessera-log-scan-'));
    try {
      const sample = others[0] ?? ownName;
      copyFileSync(join(TEST_LOG_DIR, sample), join(planted, sample));
      const lines = readFileSync(join(planted, sample), 'utf8').split('\n').length;
      appendFileSync(join(planted, sample), '{"level":30,"msg":"-----BEGIN PRIVATE KEY-----"}\n');
      assert.deepEqual(scan(planted, [sample]).map((f) => f.split(' ').slice(0, 4).join(' ')), [`${sample}:${lines} PEM private key:`]);
    } finally {
      rmSync(planted, { recursive: true, force: true });
    }
    assert.deepEqual(scan(TEST_LOG_DIR, files), []);
    // Checked: the suite's own directory starts the next run empty. Run alone, the shared
    // default directory is left as it is: other runs may be writing there.
    if (SUITE_RUN) for (const f of files) rmSync(join(TEST_LOG_DIR, f), { force: true });
  });
});
