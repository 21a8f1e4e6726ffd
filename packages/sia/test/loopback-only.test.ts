/**
 * With aws-sim's environment loaded (what `tessera aws-sim --env-out` writes
 * and the README sources), siad outside any task, pod or instance never
 * reaches past loopback: not 169.254.169.254 when told `-platform ec2`, not
 * anywhere when left to detect the platform. A preloaded guard ends siad with
 * exit code 97 the moment it opens a connection off loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAwsSim, type AwsSim } from '@tessera/aws-sim/sim';
import { freePort } from '@tessera/core/free-port';

const SIAD = fileURLToPath(new URL('../bin/siad.js', import.meta.url));
const GUARD = fileURLToPath(new URL('./support/loopback-guard.mjs', import.meta.url));
const GUARD_EXIT = 97;

let sim: AwsSim;
let dir: string;
before(async () => {
  sim = await startAwsSim();
  dir = mkdtempSync(join(tmpdir(), 'tessera-loopback-'));
});
after(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string>): Promise<{ status: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', GUARD, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (status) => resolve({ status, err }));
  });
}

test('the guard itself stops a connection to 169.254.169.254', async () => {
  const r = await run(['-e', "fetch('http://169.254.169.254/latest/api/token', { method: 'PUT' }).catch(() => process.exit(1))"], {});
  assert.equal(r.status, GUARD_EXIT, r.err);
  assert.match(r.err, /LOOPBACK-GUARD refused 169\.254\.169\.254:80/);
});

test('aws-sim\'s environment points the EC2 metadata endpoint at aws-sim, on loopback', () => {
  const env = sim.rootCredentials('123456789012').env;
  assert.equal(env.AWS_EC2_METADATA_SERVICE_ENDPOINT, sim.url);
  assert.match(new URL(sim.url).hostname, /^(127\.0\.0\.1|localhost)$/);
  assert.equal(env.AWS_EC2_METADATA_DISABLED, 'true', 'the SDK\'s default chain does not look for instance credentials at all');
});

test('siad with aws-sim\'s environment and no platform stays on loopback', async () => {
  const env = sim.rootCredentials('123456789012').env;
  const port = await freePort();
  const common = ['-zts', 'localhost', '-ztsport', String(port), '-dnsdomains', 'aws.example.com', '-providerprefix', 'athenz.aws', '-siadir', join(dir, 'sia'), '-config', '/nonexistent/sia_config'];
  for (const extra of [[], ['-platform', 'ec2']]) {
    const r = await run([SIAD, '-cmd', 'post', ...common, ...extra], env);
    assert.notEqual(r.status, GUARD_EXIT, `siad ${extra.join(' ')} left loopback: ${r.err}`);
    assert.notEqual(r.status, 0, 'nothing to register outside a workload');
    assert.doesNotMatch(r.err, /169\.254\.169\.254/);
    if (extra.length) assert.ok(r.err.includes(`${sim.url} answered HTTP 404`), `asked aws-sim (no instance there): ${r.err}`);
    else assert.match(r.err, /cannot tell where siad runs/);
  }
});
