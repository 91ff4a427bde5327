import { describe, expect, it } from 'vitest';
import { formatDuration, locateJsonError, parseJson, prettyPreview } from './json';

describe('parseJson', () => {
  it('parses valid JSON', () => {
    expect(parseJson(' {"a": [1, true, null, "x\\n"]} ')).toEqual({ ok: true, value: { a: [1, true, null, 'x\n'] } });
  });

  it.each([
    ['{\n  "a": 1,\n}', 3, 1, 'expected a property name in double quotes, found "}"'],
    ['[1, 2', 1, 6, 'expected "," or "]", found the end of the text'],
    ["{'a': 1}", 1, 2, 'expected a property name in double quotes, found "\'"'],
    ['{"a": "line\nbreak"}', 1, 12, 'control character in a string (a line break inside quotes?)'],
    ['{"a": 01}', 1, 8, 'expected "," or "}", found "1"'],
    ['{} {}', 1, 4, 'expected the end of the text (only one JSON value is allowed), found "{"'],
    ['[tru]', 1, 2, 'expected a value, found "t"'],
  ])('says where %j is wrong', (text, line, column, message) => {
    expect(parseJson(text)).toEqual({ ok: false, message: `Invalid JSON at line ${line}, column ${column}: ${message}`, line, column });
  });

  it('asks for something when the text is empty', () => {
    expect(parseJson('  \n')).toMatchObject({ ok: false, message: 'The text is empty: paste or choose a JSON document.' });
  });

  it('finds no error in valid JSON', () => {
    expect(locateJsonError('{"nested": {"deep": [{"x": -1.5e3}]}, "u": "\\u00e9"}')).toBeUndefined();
  });
});

describe('display helpers', () => {
  it('pretty-prints complete previews and marks cut ones', () => {
    expect(prettyPreview({ json: '{"a":1}', truncated: false })).toBe('{\n  "a": 1\n}');
    expect(prettyPreview({ json: '{"a":', truncated: true })).toBe('{"a": …');
  });

  it('formats durations for people', () => {
    expect([formatDuration(12.4), formatDuration(1500), formatDuration(75_000), formatDuration(null)]).toEqual(['12 ms', '1.50 s', '1 min 15 s', '–']);
  });
});
