// Preloaded (node --import) by scripts/test-node24.sh into every Node 24
// process of the test run: native addons built for Node 20 in node_modules are
// swapped for their Node 24 builds in .tools/node24, so one node_modules serves
// both versions and the Node 20 run is untouched.
import { resolve } from 'node:path';

const builds = JSON.parse(process.env.TESSERA_NODE24_ADDONS || '{}');
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  return dlopen.call(this, module, builds[resolve(filename)] || filename, ...rest);
};
