import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { BILLION_LAUGHS } from '../shared/hostile-payloads.ts';
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

describe('yaml node under host limits (issue 7)', () => {
  it('"billion laughs" (~400 bytes, 9 anchor levels x 9) fails at once with the size limit', async () => {
    const node = await createTestNode(yamlNode, {});
    const started = performance.now();
    await expect(node.input({ payload: BILLION_LAUGHS })).rejects.toThrow('The YAML document holds more than 1000000 values once written out (FLOWCREW_MAX_ITEMS)');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('YAML nested 5,000 deep fails with the depth limit', async () => {
    const node = await createTestNode(yamlNode, {});
    await expect(node.input({ payload: '['.repeat(5000) + ']'.repeat(5000) })).rejects.toThrow('The YAML document is nested more than 128 levels deep (FLOWCREW_MAX_DEPTH)');
  });
});
