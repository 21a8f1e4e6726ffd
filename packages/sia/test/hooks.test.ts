/** Hooks as real processes: the written paths in the environment, failures logged and counted, a hang killed at the time limit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hooks, hookWords, type HookName, type HookResult } from '../src/hooks.ts';

function setup(script: string, over: Partial<ConstructorParameters<typeof Hooks>[0]> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'siad-hooks-'));
  const file = join(dir, 'hook.sh');
  writeFileSync(file, script);
  const lines: string[] = [];
  const results: [HookName, HookResult][] = [];
  const hooks = new Hooks(
    { runAfter: `/bin/sh ${file} ${dir}`, runAfterTimeoutSeconds: 1, ...over },
    { log: (l) => lines.push(l), env: { PATH: process.env.PATH }, onResult: (h, r) => results.push([h, r]) },
  );
  return { dir, hooks, lines, results, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('quoted words stay together; the command runs without a shell', () => {
  assert.deepEqual(hookWords('/usr/bin/x "a b" c \'d e\''), ['/usr/bin/x', 'a b', 'c', 'd e']);
});

test('a hook that succeeds gets the written paths, one per line, in SIAD_CHANGED_FILES', async () => {
  const s = setup('printf "%s" "$SIAD_CHANGED_FILES" > "$1/out"\n');
  try {
    assert.equal(await s.hooks.afterCerts(['/var/lib/sia/certs/a.pem', '/var/lib/sia/keys/a key.pem']), 'ok');
    assert.equal(readFileSync(join(s.dir, 'out'), 'utf8'), '/var/lib/sia/certs/a.pem\n/var/lib/sia/keys/a key.pem');
    assert.deepEqual(s.results, [['run_after', 'ok']]);
    assert.deepEqual(s.lines, []);
    assert.equal(await s.hooks.afterCerts([]), 'skipped', 'nothing written: no run');
    assert.equal(existsSync(join(s.dir, 'again')), false);
  } finally {
    s.done();
  }
});

test('a hook that fails is logged with its exit status and stderr, and counted', async () => {
  const s = setup('echo "cannot reload nginx" >&2; exit 3\n');
  try {
    assert.equal(await s.hooks.afterCerts(['/x']), 'failed');
    assert.match(s.lines.join('\n'), /^run_after \/bin\/sh failed \(exit status 3\): cannot reload nginx$/);
    assert.deepEqual(s.results, [['run_after', 'failed']]);
  } finally {
    s.done();
  }
});

test('a hook that hangs is killed at its time limit, with what it started', async () => {
  // The hook starts a child (as a reload script might) and waits on it.
  const s = setup('sleep 30 & echo $! > "$1/child"; wait\n', { runAfterTimeoutSeconds: 2 });
  try {
    assert.equal(await s.hooks.afterCerts(['/x']), 'timeout');
    assert.match(s.lines.join('\n'), /run_after \/bin\/sh was killed after 2s \(run_after_timeout\)/);
    assert.deepEqual(s.results, [['run_after', 'timeout']]);
    const child = Number(readFileSync(join(s.dir, 'child'), 'utf8'));
    // Gone, or a zombie waiting for a reaper: either way no longer running. The SIGKILL lands a moment after the hook's own exit.
    const state = () => (existsSync(`/proc/${child}/stat`) ? readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone');
    for (const deadline = Date.now() + 5_000; !['gone', 'Z', undefined].includes(state()) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    assert.ok(['gone', 'Z', undefined].includes(state()), `the hook's child was killed too (state ${state()})`);
  } finally {
    s.done();
  }
});

test('runs never overlap: one asked for during a run waits for it, and those asked for meanwhile merge into one run with all their paths', async () => {
  // A second copy running at the same time could not take the lock directory and would fail.
  const s = setup('mkdir "$1/lock" || exit 9\nsleep 0.3\nprintf "%s;" "$SIAD_CHANGED_FILES" >> "$1/runs"\nrmdir "$1/lock"\n');
  try {
    const first = s.hooks.afterCerts(['/a']);
    while (!existsSync(join(s.dir, 'lock'))) await new Promise((r) => setTimeout(r, 10)); // the first run is going
    const second = s.hooks.afterCerts(['/b']);
    const third = s.hooks.afterCerts(['/c', '/b']);
    assert.deepEqual(await Promise.all([first, second, third]), ['ok', 'ok', 'ok']);
    assert.equal(readFileSync(join(s.dir, 'runs'), 'utf8'), '/a;/b\n/c;');
    assert.deepEqual(s.results, [['run_after', 'ok'], ['run_after', 'ok']], 'two runs: the second carried both later writes');
    assert.deepEqual(s.lines, []);
  } finally {
    s.done();
  }
});

test('error hooks get the failed names or the error as the last argument; a relative command is refused', async () => {
  const s = setup('printf "%s|" "$@" > "$1/args"\n');
  try {
    const cmd = `/bin/sh ${join(s.dir, 'hook.sh')} ${s.dir}`;
    const errs = new Hooks({ runAfterCertsErr: cmd, runAfterTokensErr: cmd, runAfterTimeoutSeconds: 5 }, { log: (l) => s.lines.push(l), env: {} });
    assert.equal(await errs.certsFailed(['sports:role.readers', 'sports:role.writers']), 'ok');
    assert.equal(readFileSync(join(s.dir, 'args'), 'utf8'), `${s.dir}|sports:role.readers,sports:role.writers|`);
    assert.equal(await errs.tokensFailed('sports/readers: refused'), 'ok');
    assert.equal(readFileSync(join(s.dir, 'args'), 'utf8'), `${s.dir}|sports/readers: refused|`);
    const relative = new Hooks({ runAfter: 'reload.sh', runAfterTimeoutSeconds: 5 }, { log: (l) => s.lines.push(l), env: {} });
    assert.equal(await relative.afterCerts(['/x']), 'skipped');
    assert.match(s.lines.join('\n'), /run_after "reload\.sh" skipped: its first word must be an absolute path/);
    const missing = new Hooks({ runAfter: '/nonexistent/reload', runAfterTimeoutSeconds: 5 }, { log: (l) => s.lines.push(l), env: {} });
    assert.equal(await missing.afterCerts(['/x']), 'failed');
    assert.match(s.lines.join('\n'), /run_after \/nonexistent\/reload failed to start: spawn \/nonexistent\/reload ENOENT/);
  } finally {
    s.done();
  }
});
