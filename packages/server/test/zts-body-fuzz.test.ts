/** Bounded fuzzing of the body of every ZTS route that issues something and of the token endpoint's form (the long run: scripts/fuzz-zts-bodies.ts). */
import { after, before, test } from 'node:test';
import { fuzzZtsBodies, startZtsFuzzTarget, type ZtsFuzzTarget } from './support/zts-body-fuzz.ts';

let f: ZtsFuzzTarget;
before(async () => {
  f = await startZtsFuzzTarget('sqlite');
});
after(() => f?.close());

test('no body makes an issuing ZTS route answer 5xx or hang, and a refused one signs nothing', async () => {
  await fuzzZtsBodies(f, 25);
});
