import { describe, expect, it } from 'vitest';
import type { FlowDocument } from '../api/types';
import { debugType, functionType, httpRequestType, switchType, webhookType } from '../test/fixtures';
import { outputCount, outputLabel } from './ports';
import { initialProps, resetValidators, validateFlowLocally, validateProps } from './validation';

const types = new Map([webhookType, debugType, switchType, functionType, httpRequestType].map((t) => [t.type, t]));

describe('props validation (ajv, as the runtime does it)', () => {
  it('reports problems with pointers into the props, phrased like the runtime', () => {
    expect(validateProps(webhookType, { method: 'FETCH', responseTimeoutMs: 0 })).toEqual([
      { pointer: '/url', message: 'is required' },
      { pointer: '/method', message: 'must be one of ["GET","POST","PUT"]' },
      { pointer: '/responseTimeoutMs', message: 'must be >= 1' },
    ]);
    expect(validateProps(webhookType, { url: '/ok' })).toEqual([]);
  });

  it('checks the same props of the same type once: a result is kept, and handed out as a copy', () => {
    const type = { ...webhookType, props: structuredClone(webhookType.props) };
    const first = validateProps(type, { method: 'FETCH' });
    first[0]!.message = 'changed by a caller';
    const again = validateProps(type, { method: 'FETCH' });
    expect(again.map((i) => i.message)).toEqual(['is required', 'must be one of ["GET","POST","PUT"]']);
    // Node types reloaded (a pack upgraded): checked afresh against the new schema.
    resetValidators();
    const upgraded = { ...type, props: { ...type.props, required: [] } };
    expect(validateProps(upgraded, { method: 'FETCH' }).map((i) => i.pointer)).toEqual(['/method']);
  });

  it('fills schema defaults into new props', () => {
    expect(initialProps(switchType)).toEqual({ property: 'payload', rules: [{ t: 'eq', v: '', vt: 'str' }] });
    expect(initialProps(functionType)).toEqual({ func: '\nreturn msg;', outputs: 1 });
  });

  it('checks a whole flow: unknown types, credentials, wires to missing nodes or to nodes without input', () => {
    const flow: FlowDocument = {
      id: 'f',
      name: 'F',
      version: 1,
      nodes: [
        { id: 'a', type: 'webhook', props: { url: '/a' }, wires: [['b', 'gone', 'a2']] },
        { id: 'a2', type: 'webhook', props: { url: '/b' } },
        { id: 'b', type: 'http-request', props: {}, wires: [[], ['a2']] },
        { id: 'c', type: 'mystery' },
      ],
    };
    expect(validateFlowLocally(flow, types, outputCount)).toEqual([
      { pointer: '/nodes/0/wires/0/1', message: 'wire to missing node "gone"', nodeId: 'a' },
      { pointer: '/nodes/0/wires/0/2', message: 'wire to "a2", which has no input', nodeId: 'a' },
      { pointer: '/nodes/2/credentials', message: 'needs a stored "http-auth" credential', nodeId: 'b' },
      { pointer: '/nodes/2/wires/1', message: 'port 2 no longer exists (the node has 1)', nodeId: 'b' },
      { pointer: '/nodes/2/wires/1/0', message: 'wire to "a2", which has no input', nodeId: 'b' },
      { pointer: '/nodes/3/type', message: 'unknown node type "mystery": no installed node pack provides it', nodeId: 'c' },
    ]);
  });
});

describe('ports', () => {
  it('counts ports from a number, an array prop or an integer prop', () => {
    expect(outputCount(webhookType, {})).toBe(1);
    expect(outputCount(switchType, { rules: [{}, {}, {}] })).toBe(3);
    expect(outputCount(functionType, { outputs: 2 })).toBe(2);
    expect(outputCount({ outputs: { prop: 'n', extra: 1, min: 3 } }, { n: 1 })).toBe(3);
  });

  it('labels rule ports by their rule', () => {
    expect(outputLabel(switchType, { rules: [{ t: 'gt', v: 100 }, { t: 'else' }] }, 0)).toBe('gt 100');
    expect(outputLabel(switchType, { rules: [{ t: 'gt', v: 100 }, { t: 'else' }] }, 1)).toBe('else');
  });
});
