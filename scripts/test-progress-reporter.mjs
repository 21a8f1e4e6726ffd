/**
 * A node:test reporter that writes one line as each test begins and ends, so a
 * run stopped by its deadline can say which tests were still running
 * (scripts/test-progress.mjs reads the lines). `test:dequeue` is the event that
 * marks a test as begun: `test:start` arrives only once a test reports.
 * Line format, tab-separated: begin|end, time (ms since the epoch), file, nesting, name.
 */
export default async function* progressReporter(source) {
  for await (const event of source) {
    const { file = '', nesting = 0, name = '' } = event.data ?? {};
    if (event.type === 'test:dequeue') yield `begin\t${Date.now()}\t${file}\t${nesting}\t${name}\n`;
    else if (event.type === 'test:pass' || event.type === 'test:fail') yield `end\t${Date.now()}\t${file}\t${nesting}\t${name}\n`;
  }
}
