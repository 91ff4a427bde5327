import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { BILLION_LAUGHS } from '../shared/hostile-payloads.ts';
import { cachedTemplateCount } from '../shared/bounded-mustache.ts';
import { templateNode } from './template.ts';

describe('template node', () => {
  it('renders mustache with message properties, HTML-escaped unless triple braces', async () => {
    const node = await createTestNode(templateNode, { template: 'Hi {{payload.name}} <{{topic}}> {{{raw}}} {{raw}}' });
    const [sent] = await node.input({ payload: { name: 'Ada' }, topic: 'greet', raw: '<b>' });
    expect(sent!.msg.payload).toBe('Hi Ada <greet> <b> &lt;b&gt;');
  });

  it('repeats sections over arrays and renders missing names as nothing', async () => {
    const node = await createTestNode(templateNode, { template: '{{#payload}}[{{name}}:{{topic}}]{{/payload}}{{missing}}.' });
    const [sent] = await node.input({ payload: [{ name: 'a' }, { name: 'b' }], topic: 't' });
    expect(sent!.msg.payload).toBe('[a:t][b:t].');
  });

  it('inserts flow and global context values', async () => {
    const node = await createTestNode(templateNode, { template: '{{flow.site}} / {{global.user.name}} / {{flow.none}}!' });
    node.context.flow.set('site', 'Paris');
    node.context.global.set('user', { name: 'Ada' });
    const [sent] = await node.input({});
    expect(sent!.msg.payload).toBe('Paris / Ada / !');
  });

  it("inserts the flow's environment variables ({{env.NAME}}), a message property of the same name first", async () => {
    const node = await createTestNode(templateNode, { template: '{{env.GREETING}} {{env.UNSET}}/{{env.WHO}}' }, { env: { GREETING: 'hello <you>', WHO: 'env' } });
    expect((await node.input({}))[0]!.msg.payload).toBe('hello &lt;you&gt; /env');
    expect((await node.input({ env: { WHO: 'msg' } }))[0]!.msg.payload).toBe('hello &lt;you&gt; /msg');
  });

  it('parses JSON output, escaping newlines and backslashes of inserted strings', async () => {
    const node = await createTestNode(templateNode, { template: '{"text": "{{{payload}}}", "n": {{count}}}', output: 'json' });
    const [sent] = await node.input({ payload: 'line 1\nline "2" \\ end'.replace(/"/g, "'"), count: 3 });
    expect(sent!.msg.payload).toEqual({ text: "line 1\nline '2' \\ end", n: 3 });
  });

  it('parses YAML output and writes to another property or to context', async () => {
    const yamlNode = await createTestNode(templateNode, { template: 'name: {{payload}}\ntags:\n  - a\n  - b', output: 'yaml', field: 'config' });
    const [sent] = await yamlNode.input({ payload: 'svc' });
    expect(sent!.msg.config).toEqual({ name: 'svc', tags: ['a', 'b'] });
    const ctxNode = await createTestNode(templateNode, { template: 'v{{payload}}', field: 'version', fieldType: 'flow' });
    const [passed] = await ctxNode.input({ payload: 2 });
    expect(ctxNode.context.flow.get('version')).toBe('v2');
    expect(passed!.msg).toEqual({ payload: 2 });
  });

  it('plain syntax leaves the template as it is', async () => {
    const node = await createTestNode(templateNode, { template: 'raw {{payload}}', syntax: 'plain' });
    const [sent] = await node.input({ payload: 'x' });
    expect(sent!.msg.payload).toBe('raw {{payload}}');
  });

  it('uses msg.template when the node template is empty', async () => {
    const node = await createTestNode(templateNode, { template: '' });
    const [sent] = await node.input({ payload: 'p', template: 'got {{payload}}' });
    expect(sent!.msg.payload).toBe('got p');
  });

  it('fails a message whose rendered JSON is invalid, and rejects a broken template at deploy', async () => {
    const node = await createTestNode(templateNode, { template: '{"a": {{payload}}', output: 'json' });
    await expect(node.input({ payload: 1 })).rejects.toThrow(SyntaxError);
    await expect(createTestNode(templateNode, { template: 'Hi {{#open}} never closed' })).rejects.toThrow(/Invalid mustache template/);
  });
});

describe('template node under host limits (issue 7)', () => {
  it('20,000 unique templates from messages keep the template cache bounded', async () => {
    const node = await createTestNode(templateNode, { template: '' });
    for (let i = 0; i < 20_000; i++) {
      const [sent] = await node.input({ payload: i, template: `#${i} {{payload}} ${'x'.repeat(100)}` });
      if (i === 19_999) expect(sent!.msg.payload).toBe(`#19999 19999 ${'x'.repeat(100)}`);
    }
    expect(cachedTemplateCount()).toBeLessThanOrEqual(1000);
  });

  it('nested sections that would iterate billions of times fail at the time limit', async () => {
    const node = await createTestNode(templateNode, { template: '{{#payload}}{{#payload}}{{#payload}}{{#payload}}x{{/payload}}{{/payload}}{{/payload}}{{/payload}}' });
    const started = performance.now();
    await expect(node.input({ payload: Array.from({ length: 300 }, (_, i) => i) })).rejects.toThrow(
      /^The mustache template (exceeded its time limit of 100 ms \(FLOWCREW_TEMPLATE_TIMEOUT_MS\)|renders more than 16777216 characters)/,
    );
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('output larger than a message fails with the size limit', async () => {
    const node = await createTestNode(templateNode, { template: '{{#payload.n}}{{{payload.big}}}{{/payload.n}}' });
    await expect(node.input({ payload: { n: [1, 2, 3, 4, 5], big: 'x'.repeat(4_000_000) } })).rejects.toThrow('The mustache template renders more than 16777216 characters (FLOWCREW_MAX_MESSAGE_BYTES)');
  });

  it('yaml output is parsed under the yaml limits', async () => {
    const node = await createTestNode(templateNode, { template: '{{{payload}}}', output: 'yaml' });
    await expect(node.input({ payload: BILLION_LAUGHS })).rejects.toThrow('The rendered YAML holds more than 1000000 values once written out (FLOWCREW_MAX_ITEMS)');
  });
});
