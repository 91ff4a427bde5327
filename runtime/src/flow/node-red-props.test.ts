/**
 * Table test of the Node-RED importer's normalisation: every mapped Node-RED core node, with the property variants
 * real exports carry (Node-RED 0.x to 4.x, booleans as strings, empty enums, every typed-input type), must import
 * into props that Flowcrew's node schema accepts and its node can be created from, with each change reported.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import coreNodes from '@flowcrew/nodes-core';
import { createTestNode } from '@flowcrew/sdk/testing';
import { NodeRegistry } from '../registry/registry.ts';
import { importNodeRed } from './node-red.ts';
import type { PropertyNote } from './node-red-values.ts';
import { validateFlow } from './validate.ts';

const registry = new NodeRegistry();
registry.register(coreNodes, '@flowcrew/nodes-core');

/** Import one Node-RED node on a tab; the flow must validate. Returns its props (defaults filled) and the notes about it. */
async function importOne(node: Record<string, unknown>, extra: Array<Record<string, unknown>> = []) {
  const nrNode = { id: 'n1', z: 'tab', x: 100, y: 100, wires: [[]], ...node };
  // Nodes without outputs: Node-RED writes [] (some exports [[]], which the importer drops too).
  const result = importNodeRed([{ id: 'tab', type: 'tab', label: 'T' }, nrNode, ...extra]);
  const doc = result.flows[0]!;
  const validated = validateFlow(doc, registry);
  expect(validated.issues, JSON.stringify(validated.issues)).toEqual([]);
  const flowNode = validated.flow.nodes.find((n) => n.id === 'n1')!;
  // The node can be created from what was imported (expressions compile, values parse).
  const definition = registry.get(flowNode.type)!;
  const created = await createTestNode(definition, flowNode.props ?? {}, { services: { callFlow: async (_f, msg) => msg } });
  await created.stop();
  const notes = result.properties.filter((p) => p.nodeId === 'n1');
  return { type: flowNode.type, props: flowNode.props ?? {}, notes, warnings: result.warnings, unmapped: result.unmapped };
}

/** property → its actions in order, joined with "+" (a property can be translated, then dropped). */
const actions = (notes: PropertyNote[]) => {
  const byProperty: Record<string, string> = {};
  for (const n of notes) byProperty[n.property] = byProperty[n.property] ? `${byProperty[n.property]}+${n.action}` : n.action;
  return byProperty;
};

type Case = [title: string, node: Record<string, unknown>, props: Record<string, unknown>, notes?: Record<string, string>];

const cases: Case[] = [
  // inject
  ['inject 0.x: no props, no payloadType, empty payload', { type: 'inject', payload: '', topic: 't', repeat: '', once: false }, { props: [{ p: 'payload', v: '', vt: 'date' }, { p: 'topic', vt: 'str', v: 't' }] }, { '/props': 'translated', '/props/0/v': 'translated', '/payloadType': 'defaulted+dropped', '/payload': 'dropped', '/topic': 'dropped' }],
  ['inject 0.x: payloadType "none"', { type: 'inject', payload: '', payloadType: 'none', topic: '' }, { props: [{ p: 'payload', v: '', vt: 'str' }, { p: 'topic', vt: 'str', v: '' }] }, { '/props/0/vt': 'translated+translated' }],
  ['inject 0.x: a string payload without type', { type: 'inject', payload: 'hello', topic: '' }, { props: [{ p: 'payload', v: 'hello', vt: 'str' }, { p: 'topic', vt: 'str', v: '' }] }, { '/payloadType': 'defaulted+dropped' }],
  ['inject: once as a string', { type: 'inject', props: [{ p: 'payload' }], payload: '1', payloadType: 'num', once: 'true', onceDelay: '0.5' }, { once: true, onceDelay: '0.5', props: [{ p: 'payload', v: '1', vt: 'num' }] }, { '/once': 'translated' }],
  ...(['date', 'msg', 'bin', 're', 'env', 'jsonata', 'flow', 'global', 'json', 'bool', 'num', 'str'] as const).map((vt): Case => [
    `inject props vt "${vt}"`,
    { type: 'inject', props: [{ p: 'payload', v: { bin: '[1,2]', json: '{"a":1}', jsonata: '1+1', re: '^a', bool: 'true', num: '3', msg: 'topic' }[vt as string] ?? '', vt }, { p: 'topic', vt: 'str' }], payload: '', payloadType: 'date', topic: '' },
    { props: [{ p: 'payload', vt }, { p: 'topic', vt: 'str', v: '' }] },
  ]),
  ['inject: date with a custom format (Node-RED 3.1+)', { type: 'inject', props: [{ p: 'payload', v: 'YYYY-MM-DD', vt: 'date' }] }, { props: [{ p: 'payload', v: 'YYYY-MM-DD', vt: 'date' }] }],
  // debug
  ['debug: console and active as strings, complete "false"', { type: 'debug', active: 'true', console: 'false', tosidebar: true, tostatus: false, complete: 'false' }, { active: true, console: false, complete: 'payload', targetType: 'msg' }, { '/active': 'translated', '/console': 'translated', '/complete': 'translated', '/targetType': 'defaulted' }],
  ['debug: complete true (boolean) is the whole message', { type: 'debug', complete: true }, { complete: 'true', targetType: 'full' }],
  ['debug: complete "true" without targetType (Node-RED 0.x)', { type: 'debug', complete: 'true' }, { complete: 'true', targetType: 'full' }],
  ['debug: jsonata target, status counter', { type: 'debug', complete: 'payload & "!"', targetType: 'jsonata', tostatus: true, statusType: 'counter', statusVal: '' }, { targetType: 'jsonata', statusType: 'counter' }],
  ['debug: empty statusType', { type: 'debug', complete: 'payload', targetType: 'msg', statusType: '', statusVal: '' }, { statusType: 'auto' }],
  // function
  ['function: outputs and timeout as strings, noerr dropped', { type: 'function', func: 'return msg;', outputs: '2', timeout: '', noerr: 0, initialize: '', finalize: '', libs: [] }, { outputs: 2, timeout: 0 }, { '/outputs': 'translated', '/timeout': 'defaulted', '/noerr': 'dropped' }],
  // change
  ['change 0.x: single rule in action/property/to', { type: 'change', action: 'replace', property: 'payload', from: '', to: 'msg.topic', reg: false }, { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'topic', tot: 'msg' }] }, { '/rules': 'translated', '/action': 'dropped' }],
  ['change 0.x: a regex change rule', { type: 'change', action: 'change', property: 'payload', from: 'a+', to: 'b', reg: true }, { rules: [{ t: 'change', p: 'payload', pt: 'msg', from: 'a+', fromt: 're', to: 'b', tot: 'str' }] }],
  ['change: rules without pt/tot (0.16)', { type: 'change', rules: [{ t: 'set', p: 'x', to: '5' }, { t: 'move', p: 'a', to: 'b' }], action: '', property: '', from: '', to: '', reg: false }, { rules: [{ t: 'set', p: 'x', pt: 'msg', to: '5', tot: 'str' }, { t: 'move', p: 'a', pt: 'msg', to: 'b', tot: 'msg' }] }, { '/rules/0/pt': 'defaulted', '/rules/0/tot': 'defaulted' }],
  ...(['msg', 'flow', 'global', 'str', 'num', 'bool', 'json', 'bin', 'date', 'jsonata', 'env'] as const).map((tot): Case => [
    `change set tot "${tot}"`,
    { type: 'change', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: { json: '{}', bin: '[1]', num: '1', bool: 'true', jsonata: '1', msg: 'topic', flow: 'k', global: 'k' }[tot as string] ?? '', tot }] },
    { rules: [{ t: 'set', tot }] },
  ]),
  ...(['str', 'num', 'bool', 're', 'msg', 'flow', 'global', 'env'] as const).map((fromt): Case => [
    `change "change" fromt "${fromt}"`,
    { type: 'change', rules: [{ t: 'change', p: 'payload', pt: 'msg', from: fromt === 'num' ? '1' : fromt === 'bool' ? 'true' : 'x', fromt, to: 'y', tot: 'str' }] },
    { rules: [{ t: 'change', fromt }] },
  ]),
  ['change: dc as a string', { type: 'change', rules: [{ t: 'set', p: 'a', pt: 'msg', to: 'b', tot: 'msg', dc: 'true' }] }, { rules: [{ dc: true }] }, { '/rules/0/dc': 'translated' }],
  // switch
  ['switch: checkall as a boolean, repair as a string, outputs dropped', { type: 'switch', property: 'payload', propertyType: 'msg', rules: [{ t: 'eq', v: 'a', vt: 'str' }], checkall: false, repair: 'false', outputs: 1 }, { checkall: 'false', repair: false }, { '/checkall': 'translated', '/repair': 'translated', '/outputs': 'dropped' }],
  ['switch: repair on is kept (applied)', { type: 'switch', property: 'payload', rules: [{ t: 'else' }], checkall: 'true', repair: true }, { repair: true }, {}],
  ['switch 0.x: rules without vt, empty propertyType and checkall', { type: 'switch', property: 'payload', propertyType: '', rules: [{ t: 'gt', v: '5' }, { t: 'cont', v: 'abc' }, { t: 'else' }], checkall: '' }, { propertyType: 'msg', checkall: 'true', rules: [{ t: 'gt', v: '5', vt: 'num' }, { t: 'cont', v: 'abc', vt: 'str' }, { t: 'else' }] }],
  ['switch: regex with case as a string, istype, jsonata_exp, between', { type: 'switch', property: 'payload', rules: [{ t: 'regex', v: '^a', vt: 'str', case: 'true' }, { t: 'istype', v: 'number', vt: 'number' }, { t: 'jsonata_exp', v: 'payload > 1', vt: 'jsonata' }, { t: 'btwn', v: '1', vt: 'num', v2: '3', v2t: 'num' }] }, { rules: [{ case: true }, { t: 'istype' }, { t: 'jsonata_exp' }, { t: 'btwn' }] }],
  ['switch: jsonata property, env value type, prev', { type: 'switch', property: 'payload.a', propertyType: 'jsonata', rules: [{ t: 'eq', v: 'X', vt: 'env' }, { t: 'neq', v: '', vt: 'prev' }], checkall: 'true' }, { propertyType: 'jsonata' }],
  // template, json, csv, yaml
  ['template: empty field type and output', { type: 'template', field: 'payload', fieldType: '', format: 'html', syntax: 'plain', template: 'hi', output: '' }, { fieldType: 'msg', output: 'str', syntax: 'plain' }, { '/fieldType': 'defaulted', '/output': 'defaulted' }],
  ['template: json output, mustache', { type: 'template', field: 'payload', fieldType: 'msg', format: 'json', syntax: 'mustache', template: '{"a":"{{payload}}"}', output: 'json' }, { output: 'json' }],
  ['json: pretty as a string, empty property', { type: 'json', property: '', action: 'obj', pretty: 'true' }, { property: 'payload', action: 'obj', pretty: true }],
  ['csv: hdrin "", hdrout "" (Node-RED 4 defaults), spec rfc', { type: 'csv', spec: 'rfc', sep: ',', hdrin: '', hdrout: '', multi: 'one', ret: '\\r\\n', temp: '', skip: '0', strings: true, include_empty_strings: '', include_null_values: '' }, { hdrin: false, hdrout: 'none', include_empty_strings: false }, { '/hdrout': 'defaulted' }],
  ['csv: RFC mode with an empty newline writes CRLF (Node-RED 4)', { type: 'csv', spec: 'rfc', sep: ',', ret: '', temp: '' }, { spec: 'rfc', ret: '\\r\\n' }, { '/ret': 'defaulted' }],
  ['csv: a spec other than rfc is the classic parser', { type: 'csv', spec: 'legacy', sep: ',', ret: '', temp: '' }, { spec: '', ret: '\\n' }, { '/spec': 'translated', '/ret': 'defaulted' }],
  ['csv: legacy boolean hdrout, strings as text', { type: 'csv', sep: '\\t', hdrin: 'true', hdrout: true, multi: 'mult', ret: '\\n', temp: 'a,b', skip: 0, strings: 'false' }, { hdrin: true, hdrout: 'all', strings: false, multi: 'mult' }, { '/hdrout': 'translated' }],
  ['yaml: empty property', { type: 'yaml', property: '' }, { property: 'payload' }],
  ['xml: Node-RED defaults', { type: 'xml', property: 'payload', attr: '', chr: '' }, { property: 'payload', attr: '', chr: '' }],
  ['html: Node-RED defaults (empty chr), multi', { type: 'html', property: 'payload', outproperty: 'payload', tag: 'li', ret: 'text', as: 'multi', chr: '' }, { chr: '_', as: 'multi' }],
  ['html: empty ret and as (older exports)', { type: 'html', property: '', tag: 'a', ret: '', as: '' }, { property: 'payload', ret: 'html', as: 'single' }],
  ['xml: empty property, custom keys', { type: 'xml', property: '', attr: '@', chr: '#' }, { property: 'payload', attr: '@', chr: '#' }],
  // split, join
  ['split: Node-RED 4 property payload, stream as a string', { type: 'split', splt: '\\n', spltType: 'str', arraySplt: 1, arraySpltType: 'len', stream: 'false', addname: '', property: 'payload' }, { stream: false, property: 'payload' }, { '/stream': 'translated' }],
  ['split: by length, empty type', { type: 'split', splt: '2', spltType: '', arraySplt: '3', arraySpltType: '' }, { spltType: 'str', arraySpltType: 'len' }],
  ['join: accumulate "false", useparts (Node-RED 4), reduce', { type: 'join', mode: 'reduce', build: 'array', property: 'payload', propertyType: 'msg', key: 'topic', joiner: '\\n', joinerType: 'str', useparts: true, accumulate: 'false', timeout: '', count: '', reduceRight: false, reduceExp: '$A+payload', reduceInit: '0', reduceInitType: 'num', reduceFixup: '' }, { mode: 'reduce', accumulate: false, useparts: true }, { '/accumulate': 'translated' }],
  ['join: custom with empty build and type, useparts off (Node-RED 4)', { type: 'join', mode: 'custom', build: '', propertyType: '', joinerType: '', accumulate: true, useparts: false, count: '3', timeout: '5' }, { build: 'array', propertyType: 'msg', joinerType: 'str', accumulate: true, useparts: false }, { '/build': 'defaulted' }],
  // delay
  ...(['delay', 'delayv', 'random', 'rate', 'queue', 'timed'] as const).map((pauseType): Case => [`delay pauseType "${pauseType}"`, { type: 'delay', pauseType, timeout: '5', timeoutUnits: 'seconds', rate: '1', nbRateUnits: '1', rateUnits: 'second', randomFirst: '1', randomLast: '5', randomUnits: 'seconds', drop: false, allowrate: false, outputs: 1 }, { pauseType }]),
  ['delay: drop and allowrate as strings, outputs "2", empty units', { type: 'delay', pauseType: 'rate', rate: '2', rateUnits: '', nbRateUnits: '1', drop: 'true', allowrate: 'false', outputs: '2', timeoutUnits: '' }, { drop: true, allowrate: false, outputs: 2, rateUnits: 'second', timeoutUnits: 'seconds' }],
  ['delay 0.x: no pauseType', { type: 'delay', pauseType: '', timeout: '1', timeoutUnits: 'seconds' }, { pauseType: 'delay' }],
  // http
  ['http in: upload on, lower-case method', { type: 'http in', url: '/up', method: 'post', upload: true, swaggerDoc: '' }, { method: 'POST', accept: expect.arrayContaining(['multipart/form-data']) }, { '/method': 'translated', '/accept': 'translated' }],
  ['http in: skipBodyParsing (Node-RED 4) kept', { type: 'http in', url: '/raw', method: 'get', upload: false, skipBodyParsing: true }, { method: 'GET', skipBodyParsing: true }],
  ['http in: skipBodyParsing as a string', { type: 'http in', url: '/raw', method: 'post', skipBodyParsing: 'false' }, { method: 'POST', skipBodyParsing: false }, { '/skipBodyParsing': 'translated' }],
  ['http response: status as a number, empty headers', { type: 'http response', statusCode: 201, headers: '' }, { statusCode: 201, headers: {} }],
  ['http request: paytoqs boolean (Node-RED 1.x), empty ret and method', { type: 'http request', method: '', ret: '', paytoqs: true, url: 'https://example.com', persist: false, insecureHTTPParser: false, authType: '', senderr: false, headers: [] }, { method: 'GET', ret: 'txt', paytoqs: 'query', senderr: false }, { '/paytoqs': 'translated', '/persist': 'dropped' }],
  ['http request: senderr on (as a string): errors only fail the node', { type: 'http request', method: 'use', ret: 'obj', paytoqs: 'body', url: '', senderr: 'true' }, { method: 'use', paytoqs: 'body', senderr: true }, { '/senderr': 'translated' }],
  ['http request before Node-RED 2.1: no senderr is off (errors also go on as a message)', { type: 'http request', method: 'GET', ret: 'txt', url: 'https://example.com' }, { senderr: false }, { '/senderr': 'defaulted' }],
  // catch, comment
  ['catch: uncaught as a string, empty scope', { type: 'catch', scope: '', uncaught: 'false' }, { scope: null, uncaught: false }],
  ['catch: scope as a list', { type: 'catch', scope: ['n1'], uncaught: false }, { scope: ['n1'] }],
  ['comment', { type: 'comment', info: 'notes' }, { info: 'notes' }],
  // trigger, range, sort, batch, rbe
  ['trigger: Node-RED 4 defaults (extend "false", overrideDelay "false", outputs 1)', { type: 'trigger', op1: '1', op2: '0', op1type: 'str', op2type: 'str', duration: '250', extend: 'false', overrideDelay: 'false', units: 'ms', reset: '', bytopic: 'all', topic: 'topic', outputs: 1 }, { extend: false, overrideDelay: false }, { '/extend': 'translated' }],
  ['trigger 0.x: op types "val"', { type: 'trigger', op1: 'true', op2: 'null', op1type: 'val', op2type: 'val', duration: '1', units: 's', extend: false }, { op1type: 'bool', op2type: 'json', op2: 'null' }],
  ['trigger: pay, payl, nul, date, outputs "2"', { type: 'trigger', op1: '', op2: '', op1type: 'pay', op2type: 'payl', duration: '-5', units: 'min', extend: true, bytopic: 'topic', topic: '', outputs: '2' }, { outputs: 2, topic: 'topic' }],
  ['range: Node-RED defaults with strings, round as a string', { type: 'range', minin: '0', maxin: '1023', minout: '0', maxout: '100', action: 'clamp', round: 'true', property: '' }, { round: true, property: 'payload', action: 'clamp' }],
  ['sort: sequence by a JSONata key', { type: 'sort', order: 'descending', as_num: 'true', target: '', targetType: 'seq', msgKey: 'payload', msgKeyType: 'elem', seqKey: 'payload.n', seqKeyType: 'jsonata' }, { as_num: true, targetType: 'seq' }],
  ['batch: count as strings (Node-RED 4 defaults otherwise)', { type: 'batch', mode: 'count', count: '10', overlap: '0', interval: 10, allowEmptySequence: false, topics: [{ topic: '' }] }, { count: 10, overlap: 0 }],
  ['batch: interval as a string, concat topics', { type: 'batch', mode: 'concat', count: 10, overlap: 0, interval: '5', allowEmptySequence: 'true', honourParts: 'false', topics: [{ topic: 'a' }, { topic: 'b' }] }, { interval: 5, allowEmptySequence: true }],
  ['rbe: Node-RED defaults', { type: 'rbe', func: 'rbe', gap: '', start: '', inout: 'out', septopics: true, property: 'payload', topi: 'topic' }, { func: 'rbe' }],
  ['rbe: deadband with a numeric gap, septopics as a string', { type: 'rbe', func: 'deadband', gap: 10, start: '', inout: '', septopics: 'false', property: '', topi: '' }, { gap: '10', inout: 'out', septopics: false, property: 'payload', topi: 'topic' }],
];

describe('Node-RED import normalisation: the property variants of real exports', () => {
  it.each(cases)('%s', async (_title, node, props, notes) => {
    const imported = await importOne(node);
    expect(imported.unmapped).toEqual([]);
    expect(imported.props).toMatchObject(props);
    if (notes) expect(actions(imported.notes)).toMatchObject(notes);
    // Every note names the node, its type and flow, and says why.
    for (const note of imported.notes) expect(note).toMatchObject({ nodeId: 'n1', type: node.type, flowId: 'tab', reason: expect.any(String) });
  });

  it('turns scope "group" (Node-RED 3) into the ids of the nodes in the group', async () => {
    const imported = await importOne({ type: 'catch', scope: 'group', g: 'grp' }, [
      { id: 'grp', type: 'group', z: 'tab', nodes: ['n1', 'n2'] },
      { id: 'n2', type: 'debug', z: 'tab', g: 'grp', x: 1, y: 1, wires: [] },
      { id: 'n3', type: 'debug', z: 'tab', x: 1, y: 1, wires: [] },
    ]);
    expect(imported.props.scope).toEqual(['n2']);
    expect(actions(imported.notes)).toMatchObject({ '/scope': 'translated' });
  });

  it('keeps the property a split splits (Node-RED 4)', async () => {
    const imported = await importOne({ type: 'split', property: 'data' });
    expect(imported.props.property).toBe('data');
    expect(imported.notes).toEqual([]);
  });

  it('reports a dropped node description', async () => {
    const imported = await importOne({ type: 'json', info: 'parses the body' });
    expect(imported.notes.find((n) => n.property === '/info')).toMatchObject({ action: 'dropped', from: 'parses the body' });
  });
});

// ---- every default Node-RED 4's own editor writes for a new node, read from the installed Node-RED ----

const nodesDir = path.resolve(import.meta.dirname, '..', '..', '..', '.cache', 'node-red', 'node_modules', '@node-red', 'nodes', 'core');

/** Run each core node's editor script with a stand-in `RED` and collect `defaults` (values only) per type. */
function nodeRedEditorDefaults(): Record<string, Record<string, unknown>> {
  const found: Record<string, Record<string, unknown>> = {};
  const anything = (): unknown => new Proxy(function () {}, { get: (_t, key) => (key === Symbol.toPrimitive ? () => '' : anything()), apply: () => anything() });
  const RED = new Proxy({} as Record<string, unknown>, {
    get: (_t, key) => {
      if (key === 'nodes') return { registerType: (type: string, def: { defaults?: Record<string, { value: unknown }> }) => (found[type] = Object.fromEntries(Object.entries(def.defaults ?? {}).map(([k, v]) => [k, v.value]))) };
      if (key === 'settings') return { get: () => undefined };
      if (key === '_') return (s: string) => s;
      return anything();
    },
  });
  for (const dir of readdirSync(nodesDir).filter((d) => statSync(path.join(nodesDir, d)).isDirectory())) {
    for (const file of readdirSync(path.join(nodesDir, dir)).filter((f) => f.endsWith('.html'))) {
      const html = readFileSync(path.join(nodesDir, dir, file), 'utf8');
      for (const [, script] of html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)) {
        try {
          vm.runInNewContext(script!, { RED, $: anything(), jQuery: anything(), window: anything(), document: anything() });
        } catch {
          /* an editor script that needs a real browser: its node is covered by the table above */
        }
      }
    }
  }
  return found;
}

/** What a user must fill in before Node-RED deploys the node either. */
const REQUIRED_BY_USER: Record<string, Record<string, unknown>> = {
  'http in': { url: '/path' },
  'link call': { links: ['target'] },
};

describe.skipIf(!existsSync(nodesDir))("Node-RED import normalisation: a new node with Node-RED 4's editor defaults", () => {
  let defaults: ReturnType<typeof nodeRedEditorDefaults> | undefined;
  const mapped = ['inject', 'debug', 'change', 'switch', 'template', 'json', 'csv', 'yaml', 'split', 'join', 'delay', 'http in', 'http response', 'http request', 'catch', 'comment', 'trigger', 'range', 'sort', 'batch', 'rbe', 'link call', 'xml', 'html'];
  it.each(mapped)('%s', async (type) => {
    defaults ??= nodeRedEditorDefaults();
    expect(defaults[type], `Node-RED has no editor defaults for "${type}"`).toBeDefined();
    const extra = type === 'link call' ? [{ id: 'target', type: 'link in', z: 'tab', x: 1, y: 1, wires: [[]] }] : [];
    const imported = await importOne({ type, ...defaults[type], ...REQUIRED_BY_USER[type] }, extra);
    expect(imported.unmapped).toEqual([]);
  });
});
