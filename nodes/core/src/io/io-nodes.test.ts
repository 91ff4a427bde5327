import { describe, expect, it } from 'vitest';
import { ioNodes } from '../io-nodes.ts';

describe('io node pack', () => {
  it('offers every io node type once', () => {
    expect(ioNodes.map((n) => n.type).sort()).toEqual(
      ['catch', 'comment', 'complete', 'cron', 'debug', 'delay', 'exec', 'function', 'http-request', 'inject', 'status', 'subflow-call', 'subflow-in', 'subflow-out', 'subflow-status', 'webhook', 'webhook-response'].sort(),
    );
  });

  it('describes each node for the editor: an object props schema, help text, and outputs that match its props', () => {
    for (const node of ioNodes) {
      expect(node.props.type, node.type).toBe('object');
      expect(node.help.length, node.type).toBeGreaterThan(100);
      if (typeof node.outputs === 'object') {
        const prop = (node.props.properties as Record<string, { type?: unknown }>)[node.outputs.prop];
        expect(prop?.type, node.type).toBe('integer');
      }
    }
  });

  it('marks the nodes that start runs as triggers with no input', () => {
    const triggers = ioNodes.filter((n) => n.category === 'trigger').map((n) => n.type);
    expect(triggers.sort()).toEqual(['cron', 'inject', 'subflow-in', 'webhook']);
    for (const node of ioNodes.filter((n) => n.category === 'trigger')) expect(node.inputs).toBe(0);
  });
});
