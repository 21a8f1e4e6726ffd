#!/usr/bin/env node
// zms-cli: runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every start that a future release will need Node 22; keep other warnings.
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name !== 'NodeVersionSupportWarning') process.stderr.write(`${w.name}: ${w.message}\n`);
});

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
