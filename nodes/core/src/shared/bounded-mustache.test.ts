import Mustache from 'mustache';
import { describe, expect, it } from 'vitest';
import { BoundedWriter, renderMustache } from './bounded-mustache.ts';
import { DEFAULT_LIMITS } from '@flowcrew/sdk/util';

describe('bounded mustache', () => {
  it('renders as mustache does', () => {
    const view = { name: 'Ada <3', items: [{ n: 1 }, { n: 2 }], none: [] };
    const template = 'Hi {{name}} {{{name}}} {{#items}}[{{n}}]{{/items}}{{^none}}empty{{/none}}';
    expect(renderMustache(template, view)).toBe(Mustache.render(template, view));
  });

  it('keeps at most the configured number of parsed templates', () => {
    const writer = new BoundedWriter({ ...DEFAULT_LIMITS, templateCacheEntries: 10 });
    for (let i = 0; i < 100; i++) writer.parse(`template ${i} {{x}}`);
    expect(writer.cachedTemplates).toBe(10);
  });

  it('stops a rendering at its time limit and at the output limit', () => {
    const slow = new BoundedWriter({ ...DEFAULT_LIMITS, templateTimeoutMs: 20 });
    const nested = '{{#a}}{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}{{/a}}{{/a}}';
    const a = Array.from({ length: 200 }, (_, i) => i);
    expect(() => slow.renderBounded(slow.parse(nested), nested, new Mustache.Context({ a }))).toThrow('The mustache template exceeded its time limit of 20 ms (FLOWCREW_TEMPLATE_TIMEOUT_MS)');
    const small = new BoundedWriter({ ...DEFAULT_LIMITS, maxStringLength: 100 });
    expect(() => small.renderBounded(small.parse('{{#a}}{{b}}{{/a}}'), '{{#a}}{{b}}{{/a}}', new Mustache.Context({ a, b: 'xx' }))).toThrow('The mustache template renders more than 100 characters (FLOWCREW_MAX_MESSAGE_BYTES)');
  });
});
