/** Bounded fuzzing of every ZMS write route's JSON body (the long run: scripts/fuzz-zms-bodies.ts). */
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from './support/test-server.ts';
import { fuzzWriteBodies, setUpFuzzDomain } from './support/zms-body-fuzz.ts';

let t: TestServer;
before(async () => {
  t = await startTestServer('sqlite');
  await setUpFuzzDomain(t);
});
after(() => t?.close());

test('no body makes a write route answer 5xx, hang, or write anything when it refuses', async () => {
  await fuzzWriteBodies(t, 15);
});
