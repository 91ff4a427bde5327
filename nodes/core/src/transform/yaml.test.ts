import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { yamlNode } from './yaml.ts';

describe('yaml node', () => {
  it('parses a YAML string into an object', async () => {
    const node = await createTestNode(yamlNode, {});
    const [sent] = await node.input({ payload: 'name: svc\nports:\n  - 80\n  - 443\nenabled: true\n' });
    expect(sent!.msg.payload).toEqual({ name: 'svc', ports: [80, 443], enabled: true });
  });

  it('turns an object into a YAML string', async () => {
    const node = await createTestNode(yamlNode, {});
    const [sent] = await node.input({ payload: { name: 'svc', ports: [80] } });
    expect(sent!.msg.payload).toBe('name: svc\nports:\n  - 80\n');
  });

  it('uses another property, and a separate output property', async () => {
    const node = await createTestNode(yamlNode, { property: 'body', propertyOut: 'parsed' });
    const [sent] = await node.input({ body: 'a: 1' });
    expect(sent!.msg).toEqual({ body: 'a: 1', parsed: { a: 1 } });
  });

  it('passes messages without the property; drops numbers with a warning', async () => {
    const node = await createTestNode(yamlNode, {});
    expect((await node.input({ topic: 't' }))[0]!.msg).toEqual({ topic: 't' });
    expect(await node.input({ payload: 5 })).toEqual([]);
    expect(node.logs.map((l) => l.message)).toContain('Ignored unsupported payload type');
  });

  it('fails the message on invalid YAML', async () => {
    const node = await createTestNode(yamlNode, {});
    await expect(node.input({ payload: 'a: [1, 2' })).rejects.toThrow(/unexpected end of the stream|flow collection/);
  });
});
