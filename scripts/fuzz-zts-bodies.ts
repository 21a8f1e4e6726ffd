/**
 * The long fuzz run over the body of every ZTS route that issues
 * something, the token endpoint's form too (the CI test runs the same
 * property 25 times per route). Runs against a throwaway server and aws-sim.
 *
 *   node --import tsx scripts/fuzz-zts-bodies.ts [runs-per-route=10000] [sqlite|postgres] [seed]
 */
import { fuzzZtsBodies, startZtsFuzzTarget } from '../packages/server/test/support/zts-body-fuzz.ts';

const runs = Number(process.argv[2] ?? 10_000);
const backend = process.argv[3] === 'postgres' ? 'postgres' : 'sqlite';
const seed = process.argv[4] === undefined ? Date.now() % 2 ** 31 : Number(process.argv[4]);
const f = await startZtsFuzzTarget(backend);
try {
  process.stdout.write(`fuzzing ${f.routes.length} ZTS routes × ${runs} bodies on ${backend}, seed ${seed}\n`);
  await fuzzZtsBodies(f, runs, seed);
  process.stdout.write(`ok: ${f.routes.length * runs} bodies, no 5xx, nothing signed on refusal\n`);
} finally {
  await f.close();
}
