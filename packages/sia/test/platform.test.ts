/**
 * Where siad runs: the container's variables first, then a short probe of the
 * EC2 metadata service. A one-shot command with nothing found exits non-zero
 * promptly with the -platform hint (the process too, not only main); the
 * daemon goes on as on EC2 and keeps retrying.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { main } from '../src/main.ts';
import { detectPlatform, platformFromEnv } from '../src/platform.ts';

const siad = fileURLToPath(new URL('../bin/siad.js', import.meta.url));
const REQUIRED = ['-zts', 'zts.example.com', '-dnsdomains', 'aws.example.com', '-providerprefix', 'athenz.aws'];
const HINT = /run siad inside the Fargate task, EKS pod or EC2 instance, or give -platform eks\|fargate\|ec2/;

const servers: Server[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** A metadata endpoint on loopback: `silent` accepts and never answers; otherwise it answers every request with `status`. */
async function metadataServer(behaviour: 'silent' | number): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (behaviour === 'silent') return;
    res.writeHead(behaviour, { 'content-type': 'text/plain' }).end(behaviour === 200 ? 'a-token' : 'Forbidden');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests };
}

test('the container\'s variables decide first; -platform wins; a bad -platform is refused', () => {
  assert.equal(platformFromEnv({ ECS_CONTAINER_METADATA_URI_V4: 'http://x' }, ''), 'fargate');
  assert.equal(platformFromEnv({ AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/t' }, ''), 'eks');
  assert.equal(platformFromEnv({ AWS_WEB_IDENTITY_TOKEN_FILE: '/t' }, ''), 'eks');
  assert.equal(platformFromEnv({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, ''), 'eks');
  assert.equal(platformFromEnv({}, ''), undefined);
  assert.equal(platformFromEnv({ ECS_CONTAINER_METADATA_URI_V4: 'http://x' }, 'ec2'), 'ec2');
  assert.throws(() => platformFromEnv({}, 'gke'), /-platform takes eks, fargate or ec2, not "gke"/);
});

test('the EC2 metadata service is probed only when nothing else is found, and briefly', { timeout: 30_000 }, async () => {
  const imds = await metadataServer(200);
  // Fargate variables: no probe at all.
  assert.equal(await detectPlatform({ ECS_CONTAINER_METADATA_URI_V4: 'http://x', AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url }, ''), 'fargate');
  assert.deepEqual(imds.requests, []);
  // Nothing else: one IMDSv2 token request, answered → EC2.
  assert.equal(await detectPlatform({ AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url }, ''), 'ec2');
  assert.deepEqual(imds.requests, ['PUT /latest/api/token']);
  // -meta names the endpoint too.
  assert.equal(await detectPlatform({}, '', { meta: imds.url }), 'ec2');

  const silent = await metadataServer('silent');
  await assert.rejects(detectPlatform({ AWS_EC2_METADATA_SERVICE_ENDPOINT: silent.url }, ''), (e: Error) => {
    assert.match(e.message, /cannot tell where siad runs: no ECS task metadata \(Fargate\), no Kubernetes or EKS pod credentials \(EKS\)/);
    assert.match(e.message, new RegExp(`nothing answered at ${silent.url} within 1000 ms`));
    assert.match(e.message, HINT);
    return true;
  });
  const forbidden = await metadataServer(403);
  await assert.rejects(detectPlatform({ AWS_EC2_METADATA_SERVICE_ENDPOINT: forbidden.url }, ''), new RegExp(`${forbidden.url} answered HTTP 403`));
  await assert.rejects(detectPlatform({ AWS_EC2_METADATA_DISABLED: 'true' }, ''), /the EC2 metadata service is disabled \(AWS_EC2_METADATA_DISABLED\).*-platform/);
});

test('a one-shot siad in a plain shell exits 1 promptly with the -platform hint', { timeout: 60_000 }, async () => {
  const silent = await metadataServer('silent');
  const child = spawn(process.execPath, [siad, '-cmd', 'post', ...REQUIRED, '-siadir', '/nonexistent/sia'], {
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', AWS_EC2_METADATA_SERVICE_ENDPOINT: silent.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 1, err);
  assert.match(err, /error: cannot tell where siad runs/);
  assert.match(err, HINT);
  assert.deepEqual(silent.requests, ['PUT /latest/api/token'], 'one probe, nothing more');
});

test('the daemon with nothing found goes on as on EC2 and retries until stopped', { timeout: 60_000 }, async () => {
  const forbidden = await metadataServer(403);
  const stop = new AbortController();
  let err = '';
  const sleeps: number[] = [];
  const status = await main(
    [...REQUIRED, '-siadir', '/nonexistent/sia'],
    {
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: forbidden.url },
      stdout: () => {},
      stderr: (s) => (err += s),
      now: () => new Date(),
      daemon: {
        sleep: async (ms) => {
          sleeps.push(ms);
          if (sleeps.length === 2) stop.abort();
        },
      },
    },
    stop.signal,
  );
  assert.equal(status, 0);
  assert.match(err, /no EC2 metadata service .*answered HTTP 403\): going on as on EC2 and retrying/);
  assert.match(err, /cannot start yet: cannot read the EC2 instance identity document from the metadata service: http:\/\/127\.0\.0\.1:\d+ answered HTTP 403 for \/latest\/dynamic\/instance-identity\/document; retrying in/);
  assert.equal(sleeps.length, 2, 'retried');
});
