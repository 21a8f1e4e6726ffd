/**
 * The long fuzz run over every ZMS write route's JSON body (the CI test runs
 * the same property 15 times per route). Runs against a throwaway server.
 *
 *   node --import tsx scripts/fuzz-zms-bodies.ts [runs-per-route=100000] [sqlite|postgres] [seed]
 */
import { startTestServer } from '../packages/server/test/support/test-server.ts';
import { fuzzWriteBodies, setUpFuzzDomain, WRITE_ROUTES } from '../packages/server/test/support/zms-body-fuzz.ts';

const runs = Number(process.argv[2] ?? 100_000);
const backend = process.argv[3] === 'postgres' ? 'postgres' : 'sqlite';
const seed = process.argv[4] === undefined ? Date.now() % 2 ** 31 : Number(process.argv[4]);
const t = await startTestServer(backend);
try {
  await setUpFuzzDomain(t);
  process.stdout.write(`fuzzing ${WRITE_ROUTES.length} write routes × ${runs} bodies on ${backend}, seed ${seed}\n`);
  await fuzzWriteBodies(t, runs, seed);
  process.stdout.write(`ok: ${WRITE_ROUTES.length * runs} bodies, no 5xx, no write on refusal\n`);
} finally {
  await t.close();
}
