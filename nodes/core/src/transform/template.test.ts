import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
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
