import { describe, expect, it } from 'vitest';
import { createSchemaValidator } from '@flowcrew/sdk/schema';
import { importNodeRed, isNodeRedExport } from './node-red.ts';
import { flowSchema } from './schema.ts';
import type { FlowDocument, FlowNode } from './types.ts';

// Ids as Node-RED 3.x generates them (16 hex digits); named constants keep the test readable.
const ORDERS = 'f1a2b3c4d5e6f708';
const REPORTS = '9b8c7d6e5f4a3b2c';
const id = {
  httpIn: '1a2b3c4d5e6f7081',
  json: '2b3c4d5e6f708192',
  switch: '3c4d5e6f708192a3',
  junction: '4d5e6f708192a3b4',
  change: '5e6f708192a3b4c5',
  template: '6f708192a3b4c5d6',
  httpResponse: '708192a3b4c5d6e7',
  linkOutAudit: '8192a3b4c5d6e7f8',
  linkInAudit: '92a3b4c5d6e7f809',
  debug: 'a3b4c5d6e7f8091a',
  inject: 'b4c5d6e7f8091a2b',
  function: 'c5d6e7f8091a2b3c',
  mqttOut: 'd6e7f8091a2b3c4d',
  broker: 'e7f8091a2b3c4d5e',
  linkOutReports: 'f8091a2b3c4d5e6f',
  linkInReports: '091a2b3c4d5e6f70',
  csv: '1a2b3c4d5e6f7082',
  httpRequest: '2b3c4d5e6f708293',
  tls: '3c4d5e6f708293a4',
  yaml: '4d5e6f708293a4b5',
  split: '5e6f708293a4b5c6',
  join: '6f708293a4b5c6d7',
  delay: '708293a4b5c6d7e8',
  status: '8293a4b5c6d7e8f9',
  catch: '93a4b5c6d7e8f90a',
  comment: 'a4b5c6d7e8f90a1b',
  group: 'b5c6d7e8f90a1b2c',
  linkCall: 'c6d7e8f90a1b2c3d',
  subflow: 'd7e8f90a1b2c3d4e',
  subflowNode: 'e8f90a1b2c3d4e5f',
  subflowInstance: 'f90a1b2c3d4e5f60',
};

/** An export as Node-RED 3.x writes it ("Export" → "all flows"). */
const nodeRedExport = [
  { id: ORDERS, type: 'tab', label: 'Orders', disabled: false, info: 'Takes orders over HTTP.', env: [] },
  { id: REPORTS, type: 'tab', label: 'Reports', disabled: false, info: '', env: [] },
  { id: id.httpIn, type: 'http in', z: ORDERS, name: 'POST /orders', url: '/orders', method: 'post', upload: false, swaggerDoc: '', x: 120, y: 80, wires: [[id.json]] },
  { id: id.json, type: 'json', z: ORDERS, name: '', property: 'payload', action: '', pretty: false, x: 290, y: 80, wires: [[id.switch]] },
  {
    id: id.switch, type: 'switch', z: ORDERS, name: 'by total', property: 'payload.total', propertyType: 'msg',
    rules: [{ t: 'gte', v: '100', vt: 'num' }, { t: 'else' }], checkall: 'true', repair: false, outputs: 2, x: 450, y: 80,
    wires: [[id.change], [id.junction]],
  },
  { id: id.junction, type: 'junction', z: ORDERS, x: 560, y: 140, wires: [[id.template, id.linkOutAudit]] },
  {
    id: id.change, type: 'change', z: ORDERS, name: 'flag big', rules: [{ t: 'set', p: 'big', pt: 'msg', to: 'true', tot: 'bool' }],
    action: '', property: '', from: '', to: '', reg: false, x: 620, y: 60, wires: [[id.template]],
  },
  {
    id: id.template, type: 'template', z: ORDERS, name: '', field: 'payload', fieldType: 'msg', format: 'handlebars', syntax: 'mustache',
    template: 'Order {{payload.id}} received', output: 'str', x: 780, y: 80, wires: [[id.httpResponse]],
  },
  { id: id.httpResponse, type: 'http response', z: ORDERS, name: '', statusCode: '201', headers: {}, x: 930, y: 80, wires: [] },
  { id: id.linkOutAudit, type: 'link out', z: ORDERS, name: 'to audit', mode: 'link', links: [id.linkInAudit], x: 655, y: 160, wires: [] },
  { id: id.linkInAudit, type: 'link in', z: ORDERS, name: 'audit', links: [id.linkOutAudit], x: 115, y: 240, wires: [[id.debug]] },
  {
    id: id.debug, type: 'debug', z: ORDERS, name: 'audit log', active: true, tosidebar: true, console: false, tostatus: false,
    complete: 'true', targetType: 'full', statusVal: '', statusType: 'auto', x: 260, y: 240, wires: [],
  },
  {
    id: id.inject, type: 'inject', z: ORDERS, name: 'tick', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], repeat: '60', crontab: '',
    once: false, onceDelay: 0.1, topic: '', payload: '', payloadType: 'date', x: 130, y: 320, wires: [[id.function]],
  },
  {
    id: id.function, type: 'function', z: ORDERS, name: 'count', func: 'msg.payload = 1;\nreturn msg;', outputs: 1, timeout: 0, noerr: 0,
    initialize: '', finalize: '', libs: [], d: true, x: 290, y: 320, wires: [[id.mqttOut, id.linkOutReports]],
  },
  {
    id: id.mqttOut, type: 'serial out', z: ORDERS, name: '', topic: 'orders/tick', qos: '', retain: '', respTopic: '', contentType: '',
    userProps: '', correl: '', expiry: '', broker: id.broker, x: 460, y: 320, wires: [],
  },
  {
    id: id.broker, type: 'serial-port', name: 'local', broker: 'localhost', port: '1883', clientid: '', autoConnect: true, usetls: false,
    protocolVersion: '4', keepalive: '60', cleansession: true, autoUnsubscribe: true, birthTopic: '', closeTopic: '', willTopic: '',
  },
  { id: id.linkOutReports, type: 'link out', z: ORDERS, name: 'to reports', mode: 'link', links: [id.linkInReports], x: 455, y: 380, wires: [] },
  { id: id.linkInReports, type: 'link in', z: REPORTS, name: 'from orders', links: [id.linkOutReports], x: 95, y: 60, wires: [[id.csv]] },
  {
    id: id.csv, type: 'csv', z: REPORTS, name: '', sep: ',', hdrin: true, hdrout: 'none', multi: 'one', ret: '\\n', temp: '', skip: '0',
    strings: true, include_empty_strings: '', include_null_values: '', x: 230, y: 60, wires: [[]],
  },
  {
    id: id.httpRequest, type: 'http request', z: REPORTS, g: id.group, name: 'fetch report', method: 'GET', ret: 'txt', paytoqs: 'ignore',
    url: 'https://example.com/report.yaml', tls: id.tls, persist: false, proxy: '', insecureHTTPParser: false, authType: '', senderr: false,
    headers: [], x: 150, y: 160, wires: [[id.yaml]],
  },
  { id: id.tls, type: 'tls-config', name: 'corp CA', cert: '', key: '', ca: '', certname: '', keyname: '', caname: 'ca.pem', servername: '', verifyservercert: true, alpnprotocol: '' },
  { id: id.yaml, type: 'yaml', z: REPORTS, g: id.group, property: 'payload', name: '', x: 310, y: 160, wires: [[id.split]] },
  { id: id.split, type: 'split', z: REPORTS, name: '', splt: '\\n', spltType: 'str', arraySplt: 1, arraySpltType: 'len', stream: false, addname: '', x: 450, y: 160, wires: [[id.join]] },
  {
    id: id.join, type: 'join', z: REPORTS, name: '', mode: 'auto', build: 'object', property: 'payload', propertyType: 'msg', key: 'topic',
    joiner: '\\n', joinerType: 'str', accumulate: false, timeout: '', count: '', reduceRight: false, reduceExp: '', reduceInit: '',
    reduceInitType: '', reduceFixup: '', x: 590, y: 160, wires: [[id.delay]],
  },
  {
    id: id.delay, type: 'delay', z: REPORTS, name: '', pauseType: 'delay', timeout: '5', timeoutUnits: 'seconds', rate: '1', nbRateUnits: '1',
    rateUnits: 'second', randomFirst: '1', randomLast: '5', randomUnits: 'seconds', drop: false, allowrate: false, outputs: 1, x: 730, y: 160,
    wires: [[id.status]],
  },
  { id: id.status, type: 'status', z: REPORTS, name: '', scope: null, x: 860, y: 160, wires: [[]] },
  { id: id.catch, type: 'catch', z: REPORTS, name: '', scope: null, uncaught: false, x: 140, y: 260, wires: [[id.comment]] },
  { id: id.comment, type: 'comment', z: REPORTS, name: 'Note', info: 'Reports run **hourly**.', x: 300, y: 260, wires: [] },
  { id: id.group, type: 'group', z: REPORTS, name: 'Report pipeline', style: { label: true }, nodes: [id.httpRequest, id.yaml], x: 54, y: 119, w: 332, h: 82 },
  { id: id.linkCall, type: 'link call', z: REPORTS, name: '', links: [id.linkInAudit], linkType: 'static', timeout: '30', x: 150, y: 320, wires: [[]] },
  {
    id: id.subflow, type: 'subflow', name: 'Enrich', info: '', category: '', in: [{ x: 50, y: 30, wires: [{ id: id.subflowNode }] }],
    out: [{ x: 300, y: 30, wires: [{ id: id.subflowNode, port: 0 }] }], env: [], meta: {}, color: '#DDAA99',
  },
  { id: id.subflowNode, type: 'change', z: id.subflow, name: '', rules: [{ t: 'set', p: 'enriched', pt: 'msg', to: 'true', tot: 'bool' }], x: 160, y: 30, wires: [[]] },
  { id: id.subflowInstance, type: `subflow:${id.subflow}`, z: REPORTS, name: '', x: 300, y: 320, wires: [] },
];

function flow(result: { flows: FlowDocument[] }, flowId: string): FlowDocument {
  const found = result.flows.find((f) => f.id === flowId);
  if (!found) throw new Error(`no flow ${flowId}`);
  return found;
}

function node(doc: FlowDocument, nodeId: string): FlowNode {
  const found = doc.nodes.find((n) => n.id === nodeId);
  if (!found) throw new Error(`no node ${nodeId} in ${doc.id}`);
  return found;
}

describe('isNodeRedExport', () => {
  it('recognises an editor export and the admin API form', () => {
    expect(isNodeRedExport(nodeRedExport)).toBe(true);
    expect(isNodeRedExport({ rev: 'abc', flows: nodeRedExport })).toBe(true);
    expect(isNodeRedExport([{ id: 'n1', type: 'inject', z: 'somewhere', wires: [] }])).toBe(true);
  });

  it('rejects Flowcrew documents and other JSON', () => {
    const flowcrew: FlowDocument = { format: 'flowcrew/flow@1', id: 'f', name: 'F', version: 1, nodes: [{ id: 'a', type: 'inject' }] };
    expect(isNodeRedExport(flowcrew)).toBe(false);
    expect(isNodeRedExport([flowcrew])).toBe(false);
    expect(isNodeRedExport([])).toBe(false);
    expect(isNodeRedExport({ flows: 'x' })).toBe(false);
    expect(isNodeRedExport([{ id: 'cfg', type: 'mqtt-broker' }])).toBe(false);
    expect(isNodeRedExport([{ id: 1, type: 'tab' }])).toBe(false);
    expect(isNodeRedExport('[]')).toBe(false);
  });
});

describe('importNodeRed', () => {
  const result = importNodeRed(nodeRedExport);
  const orders = flow(result, ORDERS);
  const reports = flow(result, REPORTS);

  it('makes one valid Flowcrew flow per tab', () => {
    expect(result.flows.map((f) => [f.id, f.name])).toEqual([
      [ORDERS, 'Orders'],
      [REPORTS, 'Reports'],
    ]);
    expect(orders).toMatchObject({ format: 'flowcrew/flow@1', version: 1, settings: {}, description: 'Takes orders over HTTP.' });
    expect(reports.description).toBeUndefined();
    const checkFormat = createSchemaValidator().compile(flowSchema);
    for (const doc of result.flows) expect(checkFormat(doc), JSON.stringify(checkFormat.errors)).toBe(true);
  });

  it('maps each supported type, keeping ids, names, positions and config', () => {
    const types = Object.fromEntries([...orders.nodes, ...reports.nodes].map((n) => [n.id, n.type]));
    expect(types).toEqual({
      [id.httpIn]: 'webhook',
      [id.json]: 'json',
      [id.switch]: 'switch',
      [id.change]: 'change',
      [id.template]: 'template',
      [id.httpResponse]: 'webhook-response',
      [id.debug]: 'debug',
      [id.inject]: 'inject',
      [id.function]: 'function',
      [id.csv]: 'csv',
      [id.httpRequest]: 'http-request',
      [id.yaml]: 'yaml',
      [id.split]: 'split',
      [id.join]: 'join',
      [id.delay]: 'delay',
      [id.status]: 'status',
      [id.catch]: 'catch',
      [id.comment]: 'comment',
      // The link in that a link call (on Reports) calls is its entry; the call itself is a link-call node.
      [id.linkInAudit]: 'subflow-in',
      [id.linkCall]: 'link-call',
      // An instance of a subflow of the export: the library sub-flow it becomes (subflows/node-red-import.ts publishes it).
      [id.subflowInstance]: `subflow:${id.subflow}`,
    });
    const sw = node(orders, id.switch);
    expect(sw).toMatchObject({ name: 'by total', position: { x: 450, y: 80 } });
    // Flowcrew counts a switch's outputs from its rules.
    expect(sw.props).toEqual({ property: 'payload.total', propertyType: 'msg', rules: [{ t: 'gte', v: '100', vt: 'num' }, { t: 'else' }], checkall: 'true', repair: false });
    expect(node(orders, id.function).props).toMatchObject({ func: 'msg.payload = 1;\nreturn msg;', outputs: 1, libs: [] });
    expect(node(reports, id.join).props).toMatchObject({ mode: 'auto', build: 'object', count: '', timeout: '' });
    expect(node(reports, id.csv).props).toMatchObject({ sep: ',', hdrin: true, ret: '\\n', skip: '0' });
    // The legacy payload/payloadType/topic are read into the props entries, as Node-RED's inject node does.
    expect(node(orders, id.inject).props).toEqual({ repeat: '60', crontab: '', once: false, onceDelay: 0.1, props: [{ p: 'payload', v: '', vt: 'date' }, { p: 'topic', vt: 'str', v: '' }] });
  });

  it('leaves editor-only fields out of props, keeping a comment its text', () => {
    for (const n of [...orders.nodes, ...reports.nodes]) {
      for (const key of ['id', 'type', 'z', 'x', 'y', 'wires', 'name', 'g', 'd']) expect(n.props, `${n.id}.${key}`).not.toHaveProperty(key);
    }
    expect(node(reports, id.comment)).toMatchObject({ name: 'Note', props: { info: 'Reports run **hourly**.' } });
  });

  it('turns http in into a webhook on the same path with an upper-case method', () => {
    expect(node(orders, id.httpIn).props).toEqual({ url: '/orders', method: 'POST' });
    expect(result.properties.filter((p) => p.nodeId === id.httpIn).map((p) => [p.property, p.action])).toEqual([
      ['/method', 'translated'],
      ['/swaggerDoc', 'dropped'],
      ['/upload', 'dropped'],
    ]);
    expect(node(orders, id.httpResponse).props).toEqual({ statusCode: '201', headers: {} });
  });

  it('keeps a disabled node disabled', () => {
    expect(node(orders, id.function).disabled).toBe(true);
    expect(node(orders, id.json).disabled).toBeUndefined();
  });

  it('wires through junctions and same-flow links', () => {
    expect(node(orders, id.httpIn).wires).toEqual([[id.json]]);
    // switch "else" → junction → (template, link out → link in → debug)
    expect(node(orders, id.switch).wires).toEqual([[id.change], [id.template, id.debug]]);
    const ids = new Set([...orders.nodes, ...reports.nodes].map((n) => n.id));
    for (const removed of [id.junction, id.linkOutAudit, id.linkInReports]) expect(ids.has(removed)).toBe(false);
    // A link in that a link call enters at stays, as the call's entry, and still passes link-out messages through.
    expect(node(orders, id.linkInAudit)).toMatchObject({ type: 'subflow-in', name: 'audit', props: {}, wires: [[id.debug]] });
    expect(result.unmapped.find((u) => u.id === id.junction)).toMatchObject({ type: 'junction', flowId: ORDERS });
  });

  it('reports a link to another flow as unmapped and removes wires into it with a warning', () => {
    expect(result.unmapped.find((u) => u.id === id.linkOutReports)).toMatchObject({ type: 'link out', name: 'to reports', flowId: ORDERS, reason: expect.stringContaining('links across flows are not supported') });
    expect(node(orders, id.function).wires).toBeUndefined();
    expect(result.warnings.some((w) => w.includes(id.function) && w.includes('another flow'))).toBe(true);
  });

  it('lists every node it could not map, with a reason', () => {
    const byId = Object.fromEntries(result.unmapped.map((u) => [u.id, u]));
    expect(byId[id.mqttOut]).toMatchObject({ type: 'serial out', flowId: ORDERS, reason: expect.stringContaining('no Flowcrew equivalent') });
    expect(byId[id.status]).toBeUndefined();
    expect(byId[id.broker]).toMatchObject({ type: 'serial-port', name: 'local', reason: expect.stringContaining('configuration node') });
    expect(byId[id.tls]).toMatchObject({ type: 'tls-config' });
    expect(byId[id.group]).toBeUndefined();
    expect(reports.groups).toEqual([{ id: id.group, name: 'Report pipeline', nodes: [id.httpRequest, id.yaml] }]);
    expect(byId[id.linkCall]).toBeUndefined();
    expect(node(reports, id.linkCall).props).toMatchObject({ linkType: 'static', timeout: 30, targets: [{ id: id.linkInAudit, name: 'audit', flowId: ORDERS, nodeId: id.linkInAudit }] });
    // The subflow is a library definition now (node-red-subflows.test.ts covers the translation).
    for (const sub of [id.subflow, id.subflowNode, id.subflowInstance]) expect(byId[sub]).toBeUndefined();
    expect(result.subflows.map((s) => s.definition.id)).toEqual([id.subflow]);
    // Every node of the export is either imported, wired through, or listed.
    const imported = new Set([...orders.nodes, ...reports.nodes, ...(reports.groups ?? []), ...result.subflows.flatMap((s) => s.definition.nodes)].map((n) => n.id));
    imported.add(id.subflow);
    const wiredThrough = new Set([id.linkOutAudit, id.linkInReports]);
    for (const n of nodeRedExport.filter((x) => x.type !== 'tab')) {
      expect(imported.has(n.id) || wiredThrough.has(n.id) || byId[n.id] !== undefined, n.id).toBe(true);
    }
  });

  it('removes wires to nodes that were not imported and names them in a warning', () => {
    expect(node(orders, id.function).wires).toBeUndefined();
    expect(node(reports, id.delay).wires).toEqual([[id.status]]);
    expect(result.warnings.some((w) => w.includes(id.function) && w.includes(`serial out ${id.mqttOut}`))).toBe(true);
  });

  it('warns when an imported node refers to a configuration node', () => {
    expect(node(reports, id.httpRequest).props).toMatchObject({ tls: id.tls, url: 'https://example.com/report.yaml' });
    expect(result.warnings.some((w) => w.includes('fetch report') && w.includes('tls-config') && w.includes('"tls"'))).toBe(true);
  });
});

describe('importNodeRed: other export shapes', () => {
  it('imports an export of selected nodes (no tab) as a copy into a new flow, with a warning', () => {
    const selection = [
      { id: 'aa01', type: 'inject', z: 'cafe0001', name: '', props: [{ p: 'payload' }], repeat: '', once: false, topic: '', payload: 'hi', payloadType: 'str', x: 100, y: 40, wires: [['aa02']] },
      { id: 'aa02', type: 'debug', z: 'cafe0001', name: '', active: true, complete: 'false', x: 260, y: 40, wires: [] },
    ];
    const result = importNodeRed(selection, { newFlowId: () => 'copy-1' });
    expect(result.flows).toHaveLength(1);
    expect(result.flows[0]).toMatchObject({ id: 'copy-1', name: 'Imported nodes (from flow cafe0001)' });
    // Without an id generator each import gets a new flow id, so the same selection can be imported again.
    expect(importNodeRed(selection).flows[0]!.id).not.toBe(importNodeRed(selection).flows[0]!.id);
    expect(result.flows[0]!.nodes.map((n) => [n.id, n.wires])).toEqual([
      ['aa01', [['aa02']]],
      ['aa02', undefined],
    ]);
    expect(result.warnings[0]).toContain('cafe0001');
  });

  it('accepts the admin API form and sanitises ids Flowcrew would reject', () => {
    const result = importNodeRed({
      rev: '1',
      flows: [
        { id: 'tab one/α', type: 'tab', label: '' },
        { id: 'n 1', type: 'comment', z: 'tab one/α', name: 'hello', info: '', x: 1, y: 2, wires: [] },
      ],
    });
    expect(result.flows[0]).toMatchObject({ id: 'tab_one__', name: 'Flow tab one/α', nodes: [{ id: 'n_1', type: 'comment' }] });
  });

  it('takes a node of a mapped type without position or wires as a flow node, and lays it out', () => {
    const result = importNodeRed([{ id: 'c1', type: 'comment', z: 'abc', name: 'note', info: 'hi' }], { newFlowId: () => 'pasted' });
    expect(result.flows[0]!.nodes).toEqual([{ id: 'c1', type: 'comment', name: 'note', position: { x: 140, y: 95 }, props: { info: 'hi' } }]);
    expect(result.warnings).toContain('flow "Imported nodes (from flow abc)": 1 node(s) had no position and were laid out');
  });

  it('follows chains of junctions and ignores wiring loops between them', () => {
    const result = importNodeRed([
      { id: 't', type: 'tab', label: 'T' },
      { id: 'a', type: 'inject', z: 't', x: 0, y: 0, wires: [['j1']] },
      { id: 'j1', type: 'junction', z: 't', x: 0, y: 0, wires: [['j2', 'b']] },
      { id: 'j2', type: 'junction', z: 't', x: 0, y: 0, wires: [['j1', 'c', 'b']] },
      { id: 'b', type: 'debug', z: 't', x: 0, y: 0, wires: [] },
      { id: 'c', type: 'debug', z: 't', x: 0, y: 0, wires: [] },
    ]);
    expect(result.flows[0]!.nodes.find((n) => n.id === 'a')!.wires).toEqual([['c', 'b']]);
  });

  it('throws on something that is not a Node-RED export', () => {
    expect(() => importNodeRed({ nodes: [] })).toThrow(/not a Node-RED export/);
  });
});
