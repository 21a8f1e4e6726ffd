/** STS GetCallerIdentity with per-call credentials over one shared keep-alive pool: aws-sim, and fake STS servers for faults. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAwsSim } from '@tessera/aws-sim/sim';
import { freePort } from '@tessera/core/free-port';
import { stsCallerIdentity } from '../src/providers/aws/sts-identity.ts';
import { ProviderError } from '../src/providers/instance-provider.ts';

const REGION = 'us-west-2';

const refusedWith = (status: number, message: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ProviderError, `not a ProviderError: ${e}`);
  assert.equal(e.status, status);
  assert.match(e.message, message);
  return true;
};

/** A fake STS on loopback; counts TCP connections and records requests. */
async function fakeSts(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void) {
  let requests = 0;
  let connections = 0;
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    req.resume();
    req.on('end', () => answer(++requests, req, res));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    get connections() { return connections; },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const IDENTITY = (arn: string) =>
  `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${arn}</Arn><UserId>X</UserId><Account>1</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`;

test('aws-sim: each call is signed with its own credentials, also when calls interleave; bad secrets are 403', async () => {
  const sim = await startAwsSim({ log: () => {} });
  try {
    const check = stsCallerIdentity({ region: REGION, endpoint: sim.url, timeoutMs: 10_000 });
    const keys = ['111111111111', '222222222222', '333333333333'].map((a) => sim.createAccessKey(a, { userName: `u${a.slice(0, 1)}` }));
    const calls = Array.from({ length: 30 }, (_, i) => keys[i % keys.length]);
    const arns = await Promise.all(calls.map((k) => check({ access: k.accessKeyId, secret: k.secretAccessKey, token: '' })));
    arns.forEach((arn, i) => assert.equal(arn, calls[i].arn));

    await assert.rejects(
      check({ access: keys[0].accessKeyId, secret: `${keys[0].secretAccessKey}x`, token: '' }),
      refusedWith(403, /^AWS STS rejected the presented credentials \(\w+: .+\); send fresh credentials of the assumed role$/),
    );
    await assert.rejects(check({ access: 'AKIAUNKNOWN', secret: 'nope', token: 'tok' }), refusedWith(403, /AWS STS rejected the presented credentials/));
  } finally {
    await sim.close();
  }
});

test('calls share one keep-alive connection and carry the session token', async () => {
  const sts = await fakeSts((_n, _req, res) => res.end(IDENTITY('arn:aws:sts::1:assumed-role/r/s')));
  try {
    const check = stsCallerIdentity({ region: REGION, endpoint: sts.url, timeoutMs: 5_000 });
    for (let i = 0; i < 5; i++) assert.equal(await check({ access: `AKID${i}`, secret: 's', token: `token-${i}` }), 'arn:aws:sts::1:assumed-role/r/s');
    assert.equal(sts.connections, 1);
    sts.seen.forEach((req, i) => {
      assert.match(String(req.headers.authorization), new RegExp(`^AWS4-HMAC-SHA256 Credential=AKID${i}/\\d{8}/${REGION}/sts/aws4_request, SignedHeaders=.*x-amz-security-token`));
      assert.equal(req.headers['x-amz-security-token'], `token-${i}`);
    });
  } finally {
    await sts.close();
  }
});

test('a server error is retried once; two are a 504; an answer without an ARN is a 403', async () => {
  const flaky = await fakeSts((n, _req, res) => {
    if (n % 2 === 1) {
      res.statusCode = 500;
      res.end('<ErrorResponse><Error><Code>InternalFailure</Code><Message>try again</Message></Error></ErrorResponse>');
    } else {
      res.end(IDENTITY('arn:aws:iam::1:user/u'));
    }
  });
  const broken = await fakeSts((_n, _req, res) => {
    res.statusCode = 503;
    res.end('<ErrorResponse><Error><Code>ServiceUnavailable</Code><Message>down &amp; out</Message></Error></ErrorResponse>');
  });
  const empty = await fakeSts((_n, _req, res) => res.end('<GetCallerIdentityResponse/>'));
  try {
    const creds = { access: 'AKID', secret: 's', token: '' };
    assert.equal(await stsCallerIdentity({ region: REGION, endpoint: flaky.url, timeoutMs: 5_000 })(creds), 'arn:aws:iam::1:user/u');
    await assert.rejects(stsCallerIdentity({ region: REGION, endpoint: broken.url, timeoutMs: 5_000 })(creds),
      refusedWith(504, /^AWS STS did not answer in time or failed \(ServiceUnavailable: down & out\); try again later$/));
    assert.equal(broken.seen.length, 2);
    await assert.rejects(stsCallerIdentity({ region: REGION, endpoint: empty.url, timeoutMs: 5_000 })(creds), refusedWith(403, /^STS GetCallerIdentity returned no ARN$/));
  } finally {
    await Promise.all([flaky.close(), broken.close(), empty.close()]);
  }
});

test('STS that is down or never answers is a 504 within the timeout', async () => {
  const closedPort = await freePort();
  await assert.rejects(
    stsCallerIdentity({ region: REGION, endpoint: `http://127.0.0.1:${closedPort}`, timeoutMs: 5_000 })({ access: 'A', secret: 's', token: '' }),
    refusedWith(504, /did not answer in time or failed \(Error: connect ECONNREFUSED/),
  );
  const silent = await fakeSts(() => {}); // reads the request, never answers
  try {
    await assert.rejects(
      stsCallerIdentity({ region: REGION, endpoint: silent.url, timeoutMs: 300 })({ access: 'A', secret: 's', token: '' }),
      refusedWith(504, /did not answer in time or failed \((AbortError|TimeoutError): /),
    );
  } finally {
    await silent.close();
  }
});

test('an STS error without Code or Message is named by its HTTP status; an oversized answer is dropped and retried, then a 504', async () => {
  const bare = await fakeSts((_n, _req, res) => {
    res.statusCode = 403;
    res.end('forbidden');
  });
  const huge = await fakeSts((_n, _req, res) => res.end(`<GetCallerIdentityResponse>${'x'.repeat(70 * 1024)}</GetCallerIdentityResponse>`));
  try {
    const creds = { access: 'AKID', secret: 's', token: '' };
    await assert.rejects(stsCallerIdentity({ region: REGION, endpoint: bare.url, timeoutMs: 5_000 })(creds),
      refusedWith(403, /^AWS STS rejected the presented credentials \(HTTP 403: \); send fresh credentials of the assumed role$/));
    await assert.rejects(stsCallerIdentity({ region: REGION, endpoint: huge.url, timeoutMs: 5_000 })(creds),
      refusedWith(504, /^AWS STS did not answer in time or failed \(Error: STS answer too large\); try again later$/));
    assert.equal(huge.seen.length, 2);
  } finally {
    await Promise.all([bare.close(), huge.close()]);
  }
});
