import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, LimitExceededError } from './limits.ts';
import { SafeRegExp } from './safe-regex.ts';

/** Patterns × inputs where RE2 and JavaScript could differ if the translation were careless. */
const CORPUS: Array<[string, string]> = [
  ['^a+$', ''],
  ['^(a+)+$', ''],
  ['a.c', 's'],
  ['a.c', ''],
  ['\\s+', ''],
  ['[\\s,]+', ''],
  ['[^\\s]+', ''],
  ['\\S+', ''],
  ['\\w+@\\w+\\.\\w+', 'i'],
  ['(\\d{4})-(\\d{2})', ''],
  ['(?<year>\\d{4})-(?<month>\\d{2})?', ''],
  ['(?:x|(y))+', ''],
  ['colou?r', 'i'],
  ['^$', ''],
  ['$', ''],
  ['\\bfoo\\b', ''],
  ['[a-z]{2,3}?', ''],
  ['\\x41\\u0042\\cJ', ''],
  ['\\a\\e\\z\\q', ''],
  ['[[:alpha:]]', ''],
  ['a]b', ''],
  ['x{,3}', ''],
  ['[]', ''],
  ['[^]', ''],
  ['[\\b]', ''],
  ['\\0', ''],
  ['\\/', ''],
  ['(?<=\\$)\\d+', ''],
  ['(?<!-)\\d+', ''],
  ['\\p{L}', ''],
  ['\\p{L}+', 'u'],
  ['é+', 'i'],
  ['', ''],
  ['(\\w)\\1', ''],
  ['\\d+(?=px)', 'i'],
  ['^\\w+$', 'm'],
];

const INPUTS = [
  '',
  'aaa',
  'abc a\nc a\rc a\u2028c',
  'x  y\u00a0z\tw\u3000v\ufeffu,',
  'Ada@Example.com and bob@x.io',
  '2024-05 2025-1 1999-12',
  'xyxy yx',
  'Colour color COLOR',
  'foo food foo',
  'ABC\n\u0007\u001b z q',
  'alpha [:] a]b x{,3}',
  '\b\u0000/ \\',
  '$12 -34 56',
  'pL ÉÉé ée',
  'aab 12px 3PX\nfoo\r\nbar',
];

function nativeResults(re: RegExp, input: string) {
  const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
  return {
    test: new RegExp(re.source, re.flags).test(input),
    exec: JSON.stringify(new RegExp(re.source, re.flags).exec(input)),
    all: JSON.stringify([...input.matchAll(global)].map((m) => [[...m], m.index, m.groups])),
    replace: input.replace(global, '<$&|$1>'),
    split: JSON.stringify(input.split(new RegExp(re.source, re.flags))),
  };
}

describe('SafeRegExp', () => {
  it('gives the same results as JavaScript on a corpus of patterns and inputs, on either engine', () => {
    const engines = new Set<string>();
    for (const [source, flags] of CORPUS) {
      const safe = new SafeRegExp(source, flags);
      engines.add(safe.engine);
      for (const input of INPUTS) {
        const global = new SafeRegExp(source, flags.includes('g') ? flags : `${flags}g`);
        const actual = {
          test: new SafeRegExp(source, flags).test(input),
          exec: JSON.stringify(new SafeRegExp(source, flags).exec(input)),
          all: JSON.stringify([...input.matchAll(global)].map((m) => [[...m], m.index, m.groups])),
          replace: input.replace(global, '<$&|$1>'),
          split: JSON.stringify(input.split(new SafeRegExp(source, flags))),
        };
        expect(actual, `/${source}/${flags} on ${JSON.stringify(input)} (${safe.engine})`).toEqual(nativeResults(new RegExp(source, flags), input));
      }
    }
    expect(engines).toEqual(new Set(['linear', 'backtracking']));
  });

  it('runs patterns RE2 can express on the linear engine, and says why the others need backtracking', () => {
    expect(new SafeRegExp('^(a+)+$').engine).toBe('linear');
    expect(new SafeRegExp('(?<=x)y').engine).toBe('linear');
    expect(new SafeRegExp('a(?=b)').backtrackingReason()).toBe('it uses a lookahead');
    expect(new SafeRegExp('(a)\\1').backtrackingReason()).toBe('it uses a backreference');
    expect(new SafeRegExp('^a$', 'm').backtrackingReason()).toBe('it uses "^" in multiline mode');
    expect(new SafeRegExp('a{2000}').backtrackingReason()).toMatch(/^the linear-time engine cannot run it/);
    // Captures inside a repeated group: JavaScript resets them each repetition, RE2 does not. Tests stay linear.
    const repeated = new SafeRegExp('(?:x|(y))+');
    expect(repeated.backtrackingReason()).toMatch(/capturing group inside a repeated group/);
    expect(repeated.backtrackingReason(false)).toBeUndefined();
    expect(new SafeRegExp('(\\d+\\.)+').backtrackingReason()).toBeUndefined();
  });

  it('refuses what JavaScript refuses, with JavaScript\'s error', () => {
    expect(() => new SafeRegExp('(')).toThrow(SyntaxError);
    expect(() => new SafeRegExp('a', 'q')).toThrow(SyntaxError);
  });

  it('matches the catastrophic backtracking payload in linear time: switch, change and JSONata shapes', () => {
    const payload = 'a'.repeat(30) + '!';
    const started = performance.now();
    expect(new SafeRegExp('^(a+)+$').test(payload)).toBe(false);
    expect(payload.replace(new SafeRegExp('(a+)+$', 'g'), 'x')).toBe(payload);
    expect(new SafeRegExp('^(a+)+$', 'g').exec(payload)).toBeNull();
    const long = 'a'.repeat(100_000) + '!';
    expect(new SafeRegExp('(a|aa)+$').test(long)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('stops a backtracking pattern at its deadline with a clear error, and lets ordinary input through', () => {
    const limits = { ...DEFAULT_LIMITS, regexTimeoutMs: 100 };
    const re = new SafeRegExp('^(?=a)(a+)+$', '', limits);
    expect(re.engine).toBe('backtracking');
    expect(re.test('aaaa')).toBe(true);
    const started = performance.now();
    let error: unknown;
    try {
      re.test('a'.repeat(32) + '!');
    } catch (e) {
      error = e;
    }
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(LimitExceededError);
    expect((error as Error).message).toBe(
      "The regular expression /^(?=a)(a+)+$/ exceeded its time limit of 100 ms on this input; it runs on JavaScript's backtracking engine because it uses a lookahead (FLOWCREW_REGEX_TIMEOUT_MS)",
    );
    // The budget is per use: the next message gets its own.
    expect(re.test('aa')).toBe(true);
    expect(() => ('a'.repeat(32) + '!').replace(new SafeRegExp('(?=a)(a+)+$', 'g', limits), 'x')).toThrow(LimitExceededError);
  });

  it('keeps a global search linear on long inputs with many matches', () => {
    const text = 'ab'.repeat(200_000);
    const started = performance.now();
    expect(text.replace(new SafeRegExp('b', 'g'), '').length).toBe(200_000);
    expect(text.split(new SafeRegExp('b')).length).toBe(200_001);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('replace substitutes $$, $&, $`, $\', $n, $nn and $<name> as JavaScript does', () => {
    const cases: Array<[string, string, string]> = [
      ['(\\d)(\\d)?', 'g', '[$$|$&|$`|$\'|$1|$2|$01|$10|$3|$0|$00|$<x>|$]'],
      ['(?<y>\\d{2})(\\d)?', '', '[$<y>|$<z>|$<y|$1$2]'],
      ['(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)', '', '$11-$10-$1-$111'],
      ['x*', 'g', '<$&>'],
      ['', 'g', '-'],
    ];
    for (const [source, flags, replacement] of cases) {
      for (const text of ['a12b3', '1234', 'abcdefghijk!', 'xxaxx', '']) {
        expect(text.replace(new SafeRegExp(source, flags), replacement), `/${source}/${flags} ${replacement} on ${text}`).toBe(text.replace(new RegExp(source, flags), replacement));
      }
    }
    expect('a1b2'.replace(new SafeRegExp('\\d', 'g'), (d) => String(Number(d) * 2))).toBe('a2b4');
  });

  it('split honours the limit and splices captures in, as JavaScript does', () => {
    expect('a1b2c3'.split(new SafeRegExp('(\\d)'), 4)).toEqual(['a', '1', 'b', '2']);
    expect('abc'.split(new SafeRegExp(''))).toEqual(['a', 'b', 'c']);
    expect(''.split(new SafeRegExp('x'))).toEqual(['']);
    expect(''.split(new SafeRegExp(''))).toEqual([]);
  });
});
