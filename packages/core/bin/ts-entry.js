// The shared start of Tessera's command-line programs: TypeScript sources run
// through tsx (no build step), and the AWS SDK's warning that a future release
// needs Node 22 is dropped while other warnings still print.
import { register } from 'tsx/esm/api';

export async function loadTsEntry(moduleUrl) {
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (!/NodeVersionSupportWarning|require node >=22/.test(`${w.name} ${w.message}`)) process.stderr.write(`${w.name}: ${w.message}\n`);
  });
  register();
  return import(moduleUrl);
}
