/** subflow-status: the status a message sets, by Node-RED's rules (Subflow.js); end to end: node-red-subflow-status.test.ts. */
import { describe, expect, it } from 'vitest';
import { subflowStatusOf } from './subflow-status.ts';

describe('subflow-status: the status of a message', () => {
  it.each([
    [{ payload: 'ready' }, { text: 'ready' }],
    [{ payload: { fill: 'red', shape: 'ring', text: 'down' } }, { fill: 'red', shape: 'ring', text: 'down' }],
    [{ payload: {} }, {}],
    [{ payload: { other: 1 } }, { text: '{ other: 1 }' }],
    [{ payload: 0 }, { text: '0' }],
    [{ payload: false }, { text: 'false' }],
    [{ payload: null }, { text: 'null' }],
    // as the real Node-RED 4.1 answered (node-red-subflow-status.test.ts): inspected, cut at 32 characters
    [{ payload: { a: 'x'.repeat(40) } }, { text: "{ a: 'xxxxxxxxxxxxxxxxxxxxxxxxxx..." }],
    [{ status: { fill: 'green', text: 'common.status.connected' } }, { fill: 'green', text: 'node-red:common.status.connected' }],
    [{ status: { text: 'plain' }, payload: 'wins' }, { text: 'wins' }],
  ])('%j sets %j', (msg, status) => {
    expect(subflowStatusOf(msg)).toEqual(status);
  });

  it('a message with neither payload nor status sets none', () => {
    expect(subflowStatusOf({ topic: 't' })).toBeUndefined();
  });
});
