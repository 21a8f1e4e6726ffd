/** The Go-style flag parser: Athenz's command lines must mean the same here. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError, parseGoFlags, parseSiaFlags, usage, type FlagSpec } from '../src/flags.ts';

test('defaults, -name value, -name=value, --name, bare booleans', () => {
  const f = parseSiaFlags(['-cmd', 'post', '--zts=zts.example.com', '-ztsport', '8443', '-regionalsts', '-dnsdomains=a.com,b.com']);
  assert.equal(f.cmd, 'post');
  assert.equal(f.zts, 'zts.example.com');
  assert.equal(f.ztsport, 8443);
  assert.equal(f.regionalsts, true);
  assert.equal(f.dnsdomains, 'a.com,b.com');
  assert.equal(f.config, '/etc/sia/sia_config');
  assert.equal(f.siadir, '/var/lib/sia');
  assert.equal(f.version, false);
});

test('booleans take =value only, in Go\'s spellings; -name false is a stray argument', () => {
  assert.equal(parseSiaFlags(['-regionalsts=false']).regionalsts, false);
  assert.equal(parseSiaFlags(['-regionalsts=1']).regionalsts, true);
  assert.equal(parseSiaFlags(['-regionalsts=T']).regionalsts, true);
  assert.throws(() => parseSiaFlags(['-regionalsts=yes']), /invalid boolean value "yes" for -regionalsts/);
  assert.throws(() => parseSiaFlags(['-regionalsts', 'false']), /unexpected argument false/);
});

test('a string flag takes the next argument even when it starts with a dash', () => {
  assert.equal(parseSiaFlags(['-cmd', '-x']).cmd, '-x');
  assert.equal(parseSiaFlags(['-cmd=']).cmd, '');
});

test('int flags: decimal, hex, octal as Go parses them; garbage is refused', () => {
  assert.equal(parseSiaFlags(['-ztsport', '0x10']).ztsport, 16);
  assert.equal(parseSiaFlags(['-ztsport', '010']).ztsport, 8);
  assert.equal(parseSiaFlags(['-ztsport=-1']).ztsport, -1);
  assert.throws(() => parseSiaFlags(['-ztsport', 'lots']), /invalid value "lots" for flag -ztsport: parse error/);
});

test('unknown flags, missing values, help, -- and positional arguments', () => {
  assert.throws(() => parseSiaFlags(['-nope']), /flag provided but not defined: -nope/);
  assert.throws(() => parseSiaFlags(['-zts']), /flag needs an argument: -zts/);
  assert.throws(() => parseSiaFlags(['-h']), (e: unknown) => e instanceof FlagError && e.help);
  assert.throws(() => parseSiaFlags(['---cmd', 'x']), /unexpected argument/);
  assert.throws(() => parseSiaFlags(['post']), /unexpected argument post/);
  assert.equal(parseSiaFlags(['-cmd', 'post', '--']).cmd, 'post');
  assert.throws(() => parseSiaFlags(['--', 'post']), /unexpected argument post/);
});

test('the last occurrence wins, as in Go', () => {
  assert.equal(parseSiaFlags(['-cmd', 'post', '-cmd', 'rotate']).cmd, 'rotate');
});

test('usage lists every flag with its type and default', () => {
  const specs: FlagSpec[] = [
    { name: 'b', kind: 'bool', default: false, usage: 'a bool' },
    { name: 'a', kind: 'int', default: 5, usage: 'an int' },
    { name: 'c', kind: 'string', default: 'x', usage: 'a string' },
  ];
  assert.equal(usage('p', specs), 'Usage of p:\n  -a int\n    \tan int (default 5)\n  -b\n    \ta bool\n  -c string\n    \ta string (default "x")\n');
  assert.deepEqual(parseGoFlags(specs, []), { b: false, a: 5, c: 'x' });
});
