/** releaseMemory in a process of its own: the garbage of a pass is collected at once, and siad's global object gets no `gc`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const script = `
import { releaseMemory } from ${JSON.stringify(new URL('../src/release-memory.ts', import.meta.url).href)};
const pass = () => Array.from({ length: 100_000 }, (_, i) => ({ pem: 'MII' + i.toString(36).repeat(8) }));
let garbage = pass();
const live = process.memoryUsage().heapUsed;
garbage = undefined;
releaseMemory();
const first = process.memoryUsage().heapUsed;
garbage = pass();
garbage = undefined;
releaseMemory();
const second = process.memoryUsage().heapUsed;
console.log(JSON.stringify({ live, first, second, exposed: typeof globalThis.gc }));
`;

test('each call collects the garbage left since the last (about 15 MB here); globalThis.gc is not defined', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  const r = JSON.parse(out) as { live: number; first: number; second: number; exposed: string };
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
  assert.ok(r.live - r.first > 10 * 2 ** 20, `the first call freed ${mb(r.live - r.first)} of ${mb(r.live)}`);
  assert.ok(r.second < r.first + 2 ** 20, `the second call freed the second pass too: ${mb(r.first)} → ${mb(r.second)}`);
  assert.equal(r.exposed, 'undefined');
});
