/**
 * Reads the lines scripts/test-progress-reporter.mjs wrote during a run.
 *   node scripts/test-progress.mjs unfinished <log>   tests that began and never ended (a hang)
 *   node scripts/test-progress.mjs slowest <log> [N]  the N slowest test files, first begin to last end
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const [mode, log, count = '8'] = process.argv.slice(2);
const rows = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => {
  const [kind, at, file, nesting, name] = l.split('\t');
  return { kind, at: Number(at), file, nesting: Number(nesting), name };
});
const where = (file) => relative(process.cwd(), file) || file;

if (mode === 'unfinished') {
  const open = new Map();
  for (const r of rows) {
    const key = `${r.file}\t${r.nesting}\t${r.name}`;
    if (r.kind === 'begin') open.set(key, r);
    else open.delete(key);
  }
  for (const t of open.values()) {
    console.log(t.name === t.file ? `  ${where(t.file)}` : `  ${where(t.file)}: ${'  '.repeat(t.nesting)}${t.name}`);
  }
} else if (mode === 'slowest') {
  const spans = new Map();
  for (const r of rows) {
    const s = spans.get(r.file) ?? { from: r.at, to: r.at };
    spans.set(r.file, { from: Math.min(s.from, r.at), to: Math.max(s.to, r.at) });
  }
  const files = [...spans].map(([file, s]) => ({ file, ms: s.to - s.from })).sort((a, b) => b.ms - a.ms);
  for (const f of files.slice(0, Number(count))) console.log(`  ${(f.ms / 1000).toFixed(0).padStart(5)} s  ${where(f.file)}`);
} else {
  console.error('usage: test-progress.mjs unfinished|slowest <log> [N]');
  process.exit(2);
}
