/**
 * n8n's Merge node. "append" (its default) becomes a change node per input marking where an item came in and a
 * function node holding a run's items until each input has one; "passThrough" of input 1 passes items straight on;
 * the modes combining items across inputs are listed as not translated.
 */
import type { FlowNode } from './types.ts';
import { offset, UnmappedN8nNode, type N8nNode, type Translation } from './n8n-nodes.ts';

export function merge(n: N8nNode, base: Partial<FlowNode>): Translation {
  const mode = String(n.parameters?.mode ?? 'append');
  if (mode === 'append') return mergeAppend(n, base);
  if (mode === 'passThrough' && n.parameters?.output !== 'input2') {
    return { nodes: [], entries: [], outputs: ['input'], notes: [`Merge "${n.name}" (${mode}): each item passes on as its own message as soon as it arrives (n8n waits for both inputs, then outputs input 1's items): what follows sees the items one by one`] };
  }
  const what = mode === 'chooseBranch' ? 'waits for both inputs, then outputs one of them' : 'items combined across inputs';
  throw new UnmappedN8nNode(`Merge mode "${mode}" (${what}) is not translated: use a join node`);
}

/**
 * Merge "append": n8n waits until each input has its items, then outputs input 1's, then input 2's, ... Here a change
 * node per input marks where an item came in, and a function node keeps the items of each run (by its message id,
 * which every branch of a run shares) in its context until every input has one, then sends them in input order.
 */
function mergeAppend(n: N8nNode, base: Partial<FlowNode>): Translation {
  const id = base.id!;
  const count = typeof n.parameters?.numberInputs === 'number' && n.parameters.numberInputs >= 2 ? n.parameters.numberInputs : 2;
  const marks = Array.from({ length: count }, (_, i): FlowNode => ({
    id: `${id}-input-${i + 1}`, type: 'change', name: `${n.name}: input ${i + 1}`, position: offset(base.position, -120, i * 40),
    props: { rules: [{ t: 'set', p: '_n8nMergeInput', pt: 'msg', to: String(i), tot: 'num' }] }, wires: [[id]],
  }));
  // n8n runs a Merge with what its connected inputs give: an input nothing is connected to is not waited for.
  const waitFor = n.connectedInputs?.filter((i) => i < count) ?? Array.from({ length: count }, (_, i) => i);
  const node: FlowNode = { ...base, id, type: 'function', name: n.name, props: { func: mergeAppendCode(count, waitFor, id), outputs: 1 } };
  return {
    nodes: [...marks, node], entries: [], inputEntries: marks.map((m) => [m.id]), outputs: [[{ nodeId: id, port: 0 }]],
    notes: [`Merge "${n.name}" (append): waits for the first item of each input of a run, then sends them in input order; more items of an input after that pass on as they come (n8n: all of input 1's before input 2's)`],
  };
}

/** At most this many runs wait at a Merge at once; beyond, the oldest is sent with what it has (nothing is dropped). */
export const MERGE_PENDING_RUNS = 1000;

export function mergeAppendCode(inputs: number, waitFor: number[] = Array.from({ length: inputs }, (_, i) => i), nodeId = 'merge'): string {
  return [
    `// n8n Merge (append): one item from each connected input (${waitFor.map((i) => i + 1).join(', ')}) of this run, then all of them in input order`,
    'const input = msg._n8nMergeInput;',
    'delete msg._n8nMergeInput;',
    "const key = 'run:' + String(msg._msgid);",
    'const state = context.get(key);',
    'if (state === true) return msg;',
    "const order = context.get('order') || [];",
    `const pending = state || Array.from({ length: ${inputs} }, () => []);`,
    'if (!state) order.push(key);',
    'pending[input].push(msg);',
    'let out = null;',
    `if (${JSON.stringify(waitFor)}.every((i) => pending[i].length > 0)) {`,
    '  out = pending.flat();',
    `  // the run's items at this Merge, for a Respond to Webhook with all incoming items (allItemsCode)`,
    `  out.forEach((m, index) => { m.${BATCH} = { id: key + ':' + ${JSON.stringify(nodeId)}, index, count: out.length }; });`,
    '  context.set(key, true);',
    '} else context.set(key, pending);',
    '// a run sent is remembered while newer ones arrive; the oldest still waiting is sent with what it has',
    'let early = [];',
    `while (order.length > ${MERGE_PENDING_RUNS}) {`,
    '  const oldest = order.shift();',
    '  const held = context.get(oldest);',
    '  if (held && held !== true) early = early.concat(held.flat());',
    '  context.set(oldest, undefined);',
    '}',
    "context.set('order', order);",
    'const all = early.concat(out || []);',
    'return all.length ? [all] : null;',
  ].join('\n');
}

/** Where a message carries its place among the items a Merge sent together (id, index, count). */
const BATCH = '_n8nItems';

/**
 * Respond to Webhook "all incoming items": n8n answers with the array of every item the node got in the run. Items
 * that a Merge sent together (marked with their place) are gathered until all are there, in their order, then answer
 * as one array; an unmarked message is one item. At most MERGE_PENDING_RUNS groups wait (the oldest then answers
 * with what it has).
 */
export function allItemsCode(): string {
  return [
    `const batch = msg.${BATCH};`,
    `delete msg.${BATCH};`,
    'if (!batch) { msg.payload = [msg.payload]; return msg; }',
    "const key = 'items:' + batch.id;",
    'const held = context.get(key) || {};',
    "const order = context.get('order') || [];",
    'if (Object.keys(held).length === 0) order.push(key);',
    'held[batch.index] = msg.payload;',
    'const sorted = (h) => Object.keys(h).map(Number).sort((a, b) => a - b).map((i) => h[i]);',
    'const out = [];',
    'if (Object.keys(held).length >= batch.count) {',
    '  context.set(key, undefined);',
    '  order.splice(order.indexOf(key), 1);',
    '  out.push({ ...msg, payload: sorted(held) });',
    '} else context.set(key, held);',
    `while (order.length > ${MERGE_PENDING_RUNS}) {`,
    '  const oldest = order.shift();',
    '  out.unshift({ ...msg, payload: sorted(context.get(oldest) || {}) });',
    '  context.set(oldest, undefined);',
    '}',
    "context.set('order', order);",
    'return out.length ? [out] : null;',
  ].join('\n');
}
