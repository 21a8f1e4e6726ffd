/**
 * Reads the lines scripts/test-progress-reporter.mjs wrote during a run.
 *   node scripts/test-progress.mjs unfinished <log> [stopped]   tests that began and never ended (a hang);
 *     with `stopped` (the run was killed at its deadline) also the file that was running
 *   node scripts/test-progress.mjs slowest <log> [N]  the N slowest test files, first begin to last end
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

const [mode, log, arg = ''] = process.argv.slice(2);
const rows = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => {
  const [kind, at, file, nesting, name] = l.split('\t');
  return { kind, at: Number(at), file, nesting: Number(nesting), name };
});
const where = (file) => relative(process.cwd(), file) || file;
// A file's own entry: Node 20 names it by its absolute path, Node 24 by the path as given on the command line.
const isFile = (r) => r.name === r.file || resolve(r.name) === r.file;

if (mode === 'unfinished') {
  const open = new Map();
  let lastFile = '';
  for (const r of rows) {
    const key = `${r.file}\t${r.nesting}\t${r.name}`;
    if (r.kind === 'begin') open.set(key, r);
    else open.delete(key);
    if (r.kind === 'begin' && isFile(r)) lastFile = r.file;
  }
  // Node 20 reports no end for a file that finished, so a file counts only in a run that was
  // stopped, and then only the one begun last (files run one at a time).
  for (const t of open.values()) {
    if (isFile(t) && (arg !== 'stopped' || t.file !== lastFile)) continue;
    console.log(isFile(t) ? `  ${where(t.file)}` : `  ${where(t.file)}: ${'  '.repeat(t.nesting)}${t.name}`);
  }
} else if (mode === 'slowest') {
  const spans = new Map();
  for (const r of rows) {
    const s = spans.get(r.file) ?? { from: r.at, to: r.at };
    spans.set(r.file, { from: Math.min(s.from, r.at), to: Math.max(s.to, r.at) });
  }
  const files = [...spans].map(([file, s]) => ({ file, ms: s.to - s.from })).sort((a, b) => b.ms - a.ms);
  for (const f of files.slice(0, Number(arg || '8'))) console.log(`  ${(f.ms / 1000).toFixed(0).padStart(5)} s  ${where(f.file)}`);
} else {
  console.error('usage: test-progress.mjs unfinished|slowest <log> [N]');
  process.exit(2);
}
