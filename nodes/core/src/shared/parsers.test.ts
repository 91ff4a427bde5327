import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '@flowcrew/sdk/util';
import { BILLION_LAUGHS } from './hostile-payloads.ts';
import { parseJsonLimited, parseYamlLimited } from './parsers.ts';

describe('parseYamlLimited', () => {
  it('parses ordinary YAML as js-yaml does, aliases included', () => {
    expect(parseYamlLimited('a: &x [1, 2]\nb: *x\nc: {d: e}')).toEqual({ a: [1, 2], b: [1, 2], c: { d: 'e' } });
    expect(parseYamlLimited('just text')).toBe('just text');
  });

  it('refuses "billion laughs" in milliseconds, naming the limit', () => {
    const started = performance.now();
    expect(() => parseYamlLimited(BILLION_LAUGHS)).toThrow('The YAML document holds more than 1000000 values once written out (FLOWCREW_MAX_ITEMS)');
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('refuses YAML nested deeper than a message may be, however deep', () => {
    expect(() => parseYamlLimited('['.repeat(200) + ']'.repeat(200))).toThrow('The YAML document is nested more than 128 levels deep (FLOWCREW_MAX_DEPTH)');
    expect(() => parseYamlLimited('['.repeat(50_000) + ']'.repeat(50_000))).toThrow('The YAML document is nested more than 128 levels deep (FLOWCREW_MAX_DEPTH)');
  });

  it('keeps js-yaml syntax errors, and refuses text over the size limit', () => {
    expect(() => parseYamlLimited('a: [')).toThrow(/unexpected end of the stream/);
    expect(() => parseYamlLimited('a: 1234567', 'The YAML', { ...DEFAULT_LIMITS, maxStringLength: 5 })).toThrow('The YAML is 10 characters long, more than the limit of 5 (FLOWCREW_MAX_MESSAGE_BYTES)');
  });
});

describe('parseJsonLimited', () => {
  it('parses JSON, and refuses nesting deeper than the limit before parsing', () => {
    expect(parseJsonLimited('{"a":[1,{"b":null}]}')).toEqual({ a: [1, { b: null }] });
    expect(() => parseJsonLimited('['.repeat(5000) + ']'.repeat(5000))).toThrow('The JSON is nested more than 128 levels deep (FLOWCREW_MAX_DEPTH)');
    expect(() => parseJsonLimited('{"a":')).toThrow(SyntaxError);
  });
});
