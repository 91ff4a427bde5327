import { describe, expect, it } from 'vitest';
import { toGbnfSchema } from './gbnf-schema.ts';
import { parseModelJson, parseToolArguments } from './model-json.ts';

describe('reading JSON written by a model', () => {
  it('finds the JSON inside prose or code fences', () => {
    expect(parseModelJson('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseModelJson('Here you go:\n```json\n{"a": [1, 2]}\n```\nAnything else?')).toEqual({ ok: true, value: { a: [1, 2] } });
    expect(parseModelJson('The answer is {"text": "braces } in strings"} as asked.')).toEqual({ ok: true, value: { text: 'braces } in strings' } });
  });

  it('says what is wrong when it cannot', () => {
    expect(parseModelJson('')).toEqual({ ok: false, error: 'the answer was empty' });
    expect(parseModelJson('{"summary": "The sky is blue. The sky')).toEqual({ ok: false, error: 'the JSON was cut off before it ended (the model may have run out of tokens)' });
    expect(parseModelJson('I cannot do that.')).toEqual({ ok: false, error: 'no JSON object or array found in the answer: "I cannot do that."' });
    expect(parseModelJson('{a: 1}')).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid JSON: /) });
  });

  it('reads tool arguments as an object, or flags them', () => {
    expect(parseToolArguments('{"q":"x"}')).toEqual({ arguments: { q: 'x' } });
    expect(parseToolArguments('')).toEqual({ arguments: {} });
    expect(parseToolArguments('[1]')).toEqual({ arguments: {}, invalid: '[1]' });
  });
});

describe('JSON Schema to a grammar schema for the local model', () => {
  it('keeps what a grammar can enforce and drops what only validation can', () => {
    expect(
      toGbnfSchema({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        properties: {
          name: { type: 'string', maxLength: 40, pattern: '^[a-z]+$' },
          count: { type: 'integer', minimum: 1 },
          kind: { enum: ['a', 'b'] },
          tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
          when: { type: 'string', format: 'date' },
          either: { anyOf: [{ type: 'string' }, { type: 'null' }] },
          ref: { $ref: '#/$defs/point' },
        },
        required: ['name', 'missing'],
        $defs: { point: { type: 'object', properties: { x: { type: 'number' } } } },
      }),
    ).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 40 },
        count: { type: 'integer' },
        kind: { enum: ['a', 'b'] },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
        when: { type: 'string', format: 'date' },
        either: { oneOf: [{ type: 'string' }, { type: 'null' }] },
        ref: { type: 'object', properties: { x: { type: 'number' } }, required: [], additionalProperties: false },
      },
      required: ['name'],
      additionalProperties: false,
    });
  });

  it('turns a schema-less value into "any JSON"', () => {
    expect(toGbnfSchema({ type: 'object', properties: { body: {} } })).toMatchObject({ properties: { body: { oneOf: expect.any(Array) } } });
  });
});
