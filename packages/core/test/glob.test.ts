import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GLOB_CACHE_LIMIT, globCacheSize, globMatch, globSource, globToRegExp } from '../src/authz/glob.ts';

describe('globSource', () => {
  const table: [string, string][] = [
    ['*', '^.*$'],
    ['sports:role.*', '^sports:role\\..*$'],
    ['get?', '^get.$'],
    ['a(b)[c]{d}|e^f$g+h\\i/j', '^a\\(b\\)\\[c\\]\\{d\\}\\|e\\^f\\$g\\+h\\\\i\\/j$'],
    ['', '^$'],
  ];
  for (const [glob, want] of table) it(`${glob} → ${want}`, () => assert.equal(globSource(glob), want));
});

describe('globMatch', () => {
  const table: [string, string, boolean][] = [
    ['*', '', true],
    ['*', 'sports:service.api', true],
    ['sports:*', 'sports:', true],
    ['sports:*', 'sportsx:a', false],
    ['sports:role.*', 'sports:role.readers', true],
    ['sports:role.*', 'sports:policy.readers', false],
    ['*:stats', 'weather:stats', true],
    ['*.api', 'sports.web.api', true],
    ['sports:aws.api.*', 'sports:aws.api.host.example.com', true],
    ['get?', 'gets', true],
    ['get?', 'get', false],
    ['get?', 'getss', false],
    ['a?c', 'a.c', true],
    ['a?c', 'a:c', true],
    ['a.c', 'abc', false],
    ['a.c', 'a.c', true],
    ['a+', 'aa', false],
    ['a+', 'a+', true],
    ['(x|y)', 'x', false],
    ['(x|y)', '(x|y)', true],
    ['[ab]', 'a', false],
    ['[ab]', '[ab]', true],
    ['x{2}', 'xx', false],
    ['x{2}', 'x{2}', true],
    ['^a$', '^a$', true],
    ['a\\d', 'a1', false],
    ['a\\d', 'a\\d', true],
    ['*x*', 'abxcd', true],
    ['*x*', 'abcd', false],
    ['a*b?c', 'a--b-c', true],
    ['Sports', 'sports', false], // case-sensitive: callers lower-case
    ['?', 'é', true], // one code point
    ['*', 'line\nbreak', true],
  ];
  for (const [glob, value, want] of table) {
    it(`${JSON.stringify(glob)} vs ${JSON.stringify(value)} → ${want}`, () => assert.equal(globMatch(glob, value), want));
  }
});

describe('globToRegExp', () => {
  it('returns the cached pattern for a repeated glob', () => {
    assert.equal(globToRegExp('cache:me.*'), globToRegExp('cache:me.*'));
  });

  it('keeps the cache bounded', () => {
    for (let i = 0; i < GLOB_CACHE_LIMIT + 50; i++) globToRegExp(`bound:${i}.*`);
    assert.equal(globCacheSize(), GLOB_CACHE_LIMIT);
    // Still correct after evictions.
    assert.equal(globMatch('bound:0.*', 'bound:0.x'), true);
  });

  it('patterns are stateless across calls', () => {
    const re = globToRegExp('state:*');
    assert.equal(re.test('state:a'), true);
    assert.equal(re.test('state:a'), true);
  });
});
