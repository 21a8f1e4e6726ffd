/** siad's entry: what it says before it touches AWS or ZTS; platform detection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logLine, main } from '../src/main.ts';
import { detectPlatform } from '../src/platform.ts';

async function run(args: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const status = await main(args, { env, stdout: (s) => (out += s), stderr: (s) => (err += s), now: () => new Date(2030, 0, 2, 3, 4, 5) });
  return { status, out, err };
}

const REQUIRED = ['-zts', 'zts.example.com', '-dnsdomains', 'aws.example.com', '-providerprefix', 'athenz.aws'];

test('-version to stdout; -h prints the usage and exits 0; a bad flag exits 2', async () => {
  const v = await run(['-version']);
  assert.equal(v.status, 0);
  assert.match(v.out, /^siad \(Tessera\) \d+\.\d+\.\d+\n$/);
  const h = await run(['-help']);
  assert.equal(h.status, 0);
  assert.match(h.err, /^Usage of siad:\n {2}-cmd string/);
  const bad = await run(['-ztsport', 'x']);
  assert.equal(bad.status, 2);
  assert.match(bad.err, /invalid value "x" for flag -ztsport/);
});

test('the three required flags, a port, a known command, a readable CA file', async () => {
  assert.match((await run([])).err, /error: missing -zts, -dnsdomains, -providerprefix/);
  assert.match((await run([...REQUIRED, '-ztsport', '70000'])).err, /-ztsport must be a port number/);
  assert.match((await run([...REQUIRED, '-cmd', 'post,launch'])).err, /unknown -cmd launch/);
  const ca = await run([...REQUIRED, '-cmd', 'post', '-platform', 'eks', '-ztscacert', '/nonexistent/ca.pem']);
  assert.equal(ca.status, 1);
  assert.match(ca.err, /cannot read -ztscacert \/nonexistent\/ca\.pem/);
});

test('log lines carry Go\'s date prefix', () => {
  assert.equal(logLine(new Date(2030, 0, 2, 3, 4, 5), 'hello'), '2030/01/02 03:04:05 hello\n');
});

test('platform: ECS metadata is Fargate, pod credentials or Kubernetes are EKS, otherwise EC2; -platform wins', () => {
  assert.equal(detectPlatform({ ECS_CONTAINER_METADATA_URI_V4: 'http://x' }, ''), 'fargate');
  assert.equal(detectPlatform({ AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/t' }, ''), 'eks');
  assert.equal(detectPlatform({ AWS_WEB_IDENTITY_TOKEN_FILE: '/t' }, ''), 'eks');
  assert.equal(detectPlatform({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, ''), 'eks');
  assert.equal(detectPlatform({}, ''), 'ec2');
  assert.equal(detectPlatform({ ECS_CONTAINER_METADATA_URI_V4: 'http://x' }, 'ec2'), 'ec2');
  assert.throws(() => detectPlatform({}, 'gke'), /-platform takes eks, fargate or ec2/);
  assert.throws(() => detectPlatform({ AWS_EC2_METADATA_DISABLED: 'true' }, ''), /cannot tell where siad runs/);
});
