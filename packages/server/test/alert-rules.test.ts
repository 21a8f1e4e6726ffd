/**
 * The shipped alert rules (docs/examples/tessera-alerts.yml) through Debian's
 * promtool: they parse, and they fire on the series they are written for
 * (cases in fixtures/alerts.test.yml) and not before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../..', import.meta.url).pathname;
const RULES = join(ROOT, 'docs/examples/tessera-alerts.yml');

function promtool(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8' });
  assert.ok(!r.error, `promtool: ${r.error?.message} (install Debian's prometheus package; scripts/setup.sh does)`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('promtool check rules: the rules parse', () => {
  const r = promtool(['check', 'rules', RULES]);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /SUCCESS: 11 rules found/);
});

test('promtool test rules: each alert fires on its series, and not before', () => {
  const r = promtool(['test', 'rules', new URL('fixtures/alerts.test.yml', import.meta.url).pathname]);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /SUCCESS/);
});

test('a broken rule is caught', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-rules-'));
  try {
    const broken = join(dir, 'rules.yml');
    writeFileSync(broken, readFileSync(RULES, 'utf8').replace('tessera_db_up == 0', 'tessera_db_up ==== 0'));
    const r = promtool(['check', 'rules', broken]);
    assert.equal(r.status, 1);
    assert.match(r.out, /FAILED/);
    assert.match(r.out, /parse error/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
