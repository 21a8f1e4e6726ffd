/**
 * The entry of the compiled build (`npm run build` → dist/tessera.mjs): a
 * production start, so `tessera serve` uses every core unless told otherwise.
 * The AWS SDK's warning that a future release needs Node 22 is dropped, as in
 * the development entry (core/bin/ts-entry.js).
 */
import { availableParallelism } from 'node:os';
import { main } from './main.ts';

process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (!/NodeVersionSupportWarning|require node >=22/.test(`${w.name} ${w.message}`)) process.stderr.write(`${w.name}: ${w.message}\n`);
});
await main(process.argv, { workers: availableParallelism() });
