/**
 * A node:test reporter for scripts/coverage.sh: sums the runner's per-file
 * branch counts into the security-relevant groups, prints a table (groups,
 * then the files below 100%), and fails the run when a group is under the
 * threshold (COVERAGE_MIN_BRANCHES, default 95). Test failures are reported
 * by the spec reporter that runs beside it.
 */
import { relative } from 'node:path';

const ROOT = process.cwd();
export const GROUPS = [
  { name: 'packages/zts', test: (f) => f.startsWith('packages/zts/src/') },
  { name: 'packages/zms/src/auth', test: (f) => f.startsWith('packages/zms/src/auth/') },
  { name: 'packages/core/src/x509 + names.ts + principal-token.ts', test: (f) => f.startsWith('packages/core/src/x509/') || f === 'packages/core/src/names.ts' || f === 'packages/core/src/principal-token.ts' },
];

export default async function* coverageReporter(source) {
  const min = Number(process.env.COVERAGE_MIN_BRANCHES ?? 95);
  let seen = false;
  for await (const event of source) {
    if (event.type !== 'test:coverage') continue;
    seen = true;
    const files = event.data.summary.files.map((f) => ({ ...f, path: relative(ROOT, f.path) }));
    const lines = [];
    let failed = false;
    for (const g of GROUPS) {
      const mine = files.filter((f) => g.test(f.path));
      const total = mine.reduce((n, f) => n + f.totalBranchCount, 0);
      const covered = mine.reduce((n, f) => n + f.coveredBranchCount, 0);
      const pct = total === 0 ? 0 : (100 * covered) / total;
      const ok = total > 0 && pct >= min;
      failed ||= !ok;
      lines.push(`${ok ? 'ok  ' : 'LOW '} ${g.name.padEnd(36)} branches ${pct.toFixed(1).padStart(5)}% (${covered}/${total}), ${mine.length} files`);
      for (const f of mine.filter((f) => f.coveredBranchCount < f.totalBranchCount)) {
        const uncovered = (f.branches ?? []).filter((b) => b.count === 0).map((b) => b.line);
        lines.push(`       ${f.path.padEnd(56)} ${f.coveredBranchPercent.toFixed(1).padStart(5)}%  uncovered branches at lines ${[...new Set(uncovered)].join(' ')}`);
      }
    }
    lines.push(`branch coverage threshold ${min}%: ${failed ? 'FAILED' : 'passed'}`);
    if (failed) process.exitCode = 1;
    yield `${lines.join('\n')}\n`;
  }
  if (!seen) {
    process.exitCode = 1;
    yield 'no coverage data: run with --experimental-test-coverage\n';
  }
}
