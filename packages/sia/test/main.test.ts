/** siad's entry: what it says before it touches AWS or ZTS (platform detection: platform.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logLine, main } from '../src/main.ts';

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
