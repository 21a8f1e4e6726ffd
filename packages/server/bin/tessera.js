#!/usr/bin/env node
// The `tessera` binary: runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every start that a future release will need Node 22; keep other warnings.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'NodeVersionSupportWarning') process.stderr.write(`${w.name}: ${w.message}\n`);
});

register();
const { main } = await import('../src/main.ts');
await main(process.argv);
