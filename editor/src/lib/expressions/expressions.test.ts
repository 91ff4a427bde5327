import { describe, expect, it } from 'vitest';
import { evaluatePreview } from './evaluate';
import { expressionFields } from './fields';
import { expressionIssues } from './issues';
import { checkJsonata, lineColumn } from './jsonata-syntax';
import { checkMustache } from './mustache-syntax';
import { messagePaths } from './paths';

describe('JSONata syntax check', () => {
  it('finds the offending token, or the end of a cut-short expression', () => {
    const bad = checkJsonata('payload.price * foo bar');
    expect(bad).toMatchObject({ message: 'Syntax error: "bar"', from: 20, to: 23 });
    const cut = checkJsonata('$sum(payload.items.price');
    expect(cut?.message).toMatch(/Expected "\)" before end of expression/);
    expect(cut).toMatchObject({ from: 23, to: 24 });
    expect(checkJsonata('payload.price * 2')).toBeNull();
    // A number token comes back as a number.
    expect(checkJsonata('payload.price * * 2')).toMatchObject({ message: 'Syntax error: 2', from: 18, to: 19 });
    expect(lineColumn('a\nbc d', 4)).toEqual({ line: 2, column: 3 });
  });
});

describe('mustache syntax check', () => {
  it('places an unclosed tag or section where mustache says', () => {
    expect(checkMustache('Hello {{payload.name')).toMatchObject({ message: 'Unclosed tag', from: 20 - 1 });
    expect(checkMustache('{{#items}} x')?.message).toBe('Unclosed section "items"');
    expect(checkMustache('Hello {{payload}}')).toBeNull();
  });
});

describe('message paths for completion', () => {
  it('lists nested keys, array items through their array, odd names in backticks', () => {
    const paths = messagePaths({ payload: { price: 3, items: [{ name: 'a', qty: 1 }], 'odd key': true }, topic: 't' }).map((p) => p.path);
    expect(paths).toEqual(['payload', 'payload.price', 'payload.items', 'payload.items.name', 'payload.items.qty', 'payload.`odd key`', 'topic']);
    expect(messagePaths(undefined)).toEqual([]);
  });
});

describe('preview evaluation', () => {
  const msg = { payload: { price: 2.5, items: [{ q: 2 }, { q: 3 }] }, topic: 'orders' };

  it('evaluates JSONata against the whole message, as the jsonata node does', async () => {
    expect(await evaluatePreview({ language: 'jsonata', source: 'payload.price * $sum(payload.items.q)', input: msg })).toMatchObject({ ok: true, value: 12.5 });
    expect(await evaluatePreview({ language: 'jsonata', source: 'nothing.here', input: msg })).toMatchObject({ ok: true, empty: true });
  });

  it('gives a typed value that mentions msg the message as msg, as Node-RED does', async () => {
    expect(await evaluatePreview({ language: 'jsonata', source: 'msg.topic & "!"', input: msg, nodeRedInput: true })).toMatchObject({ ok: true, value: 'orders!' });
    expect(await evaluatePreview({ language: 'jsonata', source: 'topic & "!"', input: msg, nodeRedInput: true })).toMatchObject({ ok: true, value: 'orders!' });
  });

  it('reports errors with their position, and says context reads are empty here', async () => {
    const failed = await evaluatePreview({ language: 'jsonata', source: '$nope(payload)', input: msg });
    expect(failed).toMatchObject({ ok: false, message: 'Attempted to invoke a non-function' });
    const context = await evaluatePreview({ language: 'jsonata', source: '$flowContext("count")', input: msg });
    expect(context).toMatchObject({ ok: true, empty: true });
    expect(context.notes[0]).toMatch(/not available in the preview/);
  });

  it('renders a mustache template from the message', async () => {
    expect(await evaluatePreview({ language: 'mustache', source: 'Topic {{topic}}: {{#payload.items}}[{{q}}]{{/payload.items}}{{missing}}', input: msg })).toMatchObject({ ok: true, value: 'Topic orders: [2][3]' });
  });
});

describe('expression fields of a node', () => {
  const changeSchema = {
    type: 'object',
    properties: {
      rules: {
        type: 'array',
        items: { type: 'object', properties: { t: { enum: ['set', 'delete'] }, p: { type: 'string' }, to: { type: 'string' }, tot: { enum: ['str', 'jsonata'], default: 'str' } } },
      },
    },
  };
  const jsonataSchema = { type: 'object', properties: { expression: { type: 'string' }, property: { type: 'string' } } };
  const templateSchema = { type: 'object', properties: { template: { type: 'string', format: 'mustache' } } };

  it('finds JSONata props, typed values of type jsonata and templates, and checks them', () => {
    const props = { rules: [{ t: 'set', p: 'a', to: 'payload +', tot: 'jsonata' }, { t: 'set', p: 'b', to: 'plain text', tot: 'str' }] };
    expect(expressionFields(changeSchema, props)).toEqual([{ pointer: '/rules/0/to', language: 'jsonata', source: 'payload +', nodeRedInput: true }]);
    expect(expressionIssues(changeSchema, props)).toEqual([{ pointer: '/rules/0/to', message: 'JSONata error at line 1, column 9: Unexpected end of expression' }]);
    expect(expressionIssues(jsonataSchema, { expression: 'payload.a ~> $sum(', property: 'payload' })[0]?.pointer).toBe('/expression');
    expect(expressionIssues(jsonataSchema, { expression: 'payload.a', property: 'payload' })).toEqual([]);
    expect(expressionIssues(templateSchema, { template: 'Hi {{name' })).toEqual([{ pointer: '/template', message: 'template error at line 1, column 9: Unclosed tag' }]);
    // Empty: left to the schema (a template may be empty); an empty typed JSONata value fails at deploy, so it is flagged.
    expect(expressionIssues(templateSchema, { template: '' })).toEqual([]);
    expect(expressionIssues(changeSchema, { rules: [{ t: 'set', p: 'a', to: '', tot: 'jsonata' }] })[0]?.message).toMatch(/empty/);
  });

  it('leaves a cron "expression" alone: its format says it is not JSONata', async () => {
    const { cronNode } = await import('../../../../nodes/core/src/io/cron.ts');
    expect(expressionIssues(cronNode.props as Record<string, unknown>, { expression: '0 * * * *' })).toEqual([]);
  });
});
