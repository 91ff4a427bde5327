/**
 * n8n node types → Flowcrew nodes. Each translator returns the Flowcrew nodes standing for one n8n node, where its
 * input enters (`entries`) and what each of its outputs is (`outputs`): ports of its own nodes, or 'input' when the
 * node passes its input through (No-Op, Merge in append mode), so the importer wires its sources straight on.
 * The n8n item's `json` is `msg.payload`; another node's output read by `$('Node')` is `msg.n8n[Node]` (n8n.ts).
 */
import type { FlowNode } from './types.ts';
import { quoteJsonataName, translateParameter, UntranslatableExpression, type NodeRefs } from './n8n-expressions.ts';
import { translateConditions } from './n8n-conditions.ts';
import { scheduleTrigger } from './n8n-schedule.ts';
import { allItemsCode, merge, MERGE_PENDING_RUNS } from './n8n-merge.ts';

export interface N8nNode {
  id?: string;
  name: string;
  type: string;
  typeVersion?: number;
  position?: [number, number];
  parameters?: Record<string, unknown>;
  disabled?: boolean;
  webhookId?: string;
  /** Not n8n's: the input indexes other nodes are connected to, found by the importer (a Merge waits for these only). */
  connectedInputs?: number[];
}

export type Output = Array<{ nodeId: string; port: number }> | 'input';

export interface Translation {
  nodes: FlowNode[];
  entries: string[];
  /** Where each n8n input enters, for a node whose inputs differ (Merge); else `entries` for every input. */
  inputEntries?: string[][];
  outputs: Output[];
  /** The node answers the webhook request (Respond to Webhook), or starts a run (a trigger). */
  responds?: boolean;
  trigger?: 'webhook' | 'other';
  /** A webhook whose response is the last node's output: the importer adds a response after each leaf. */
  respondWithLastNode?: { responseData: string; responseCode?: number; /** a sub-workflow's trigger: answer the calling Execute Workflow */ caller?: boolean };
  notes: string[];
}

export class UnmappedN8nNode extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** JSONata for a parameter: an expression, or a literal value written as JSONata. */
export function valueJsonata(value: unknown, refs: NodeRefs): string {
  const t = translateParameter(value, refs);
  return 'jsonata' in t ? t.jsonata : JSON.stringify(t.literal ?? null);
}

const change = (id: string, name: string, rules: Array<Record<string, unknown>>, base: Partial<FlowNode>): FlowNode => ({
  ...base, id, type: 'change', name, props: { rules },
});
const setJsonata = (p: string, expression: string) => ({ t: 'set', p, pt: 'msg', to: expression, tot: 'jsonata' });

type Translator = (node: N8nNode, base: Partial<FlowNode>, refs: NodeRefs) => Translation;

const TRANSLATORS: Record<string, Translator> = {
  'n8n-nodes-base.manualTrigger': (n, base) => ({
    nodes: [{ ...base, id: base.id!, type: 'inject', name: n.name, props: { props: [{ p: 'payload', v: '{}', vt: 'json' }] } }],
    entries: [], outputs: [[{ nodeId: base.id!, port: 0 }]], trigger: 'other', notes: [],
  }),
  'n8n-nodes-base.scheduleTrigger': scheduleTrigger,
  'n8n-nodes-base.cron': () => { throw new UnmappedN8nNode('the legacy Cron node: re-create it as a Schedule Trigger'); },
  'n8n-nodes-base.webhook': webhook,
  'n8n-nodes-base.respondToWebhook': respondToWebhook,
  'n8n-nodes-base.set': setNode,
  'n8n-nodes-base.if': (n, base, refs) => conditionSwitch(n, base, [translateConditions(n.parameters ?? {}, refs)], true),
  'n8n-nodes-base.filter': (n, base, refs) => conditionSwitch(n, base, [translateConditions(n.parameters ?? {}, refs)], false),
  'n8n-nodes-base.switch': switchNode,
  'n8n-nodes-base.merge': merge,
  'n8n-nodes-base.code': code,
  'n8n-nodes-base.httpRequest': httpRequest,
  'n8n-nodes-base.wait': wait,
  'n8n-nodes-base.executeWorkflow': executeWorkflow,
  'n8n-nodes-base.executeWorkflowTrigger': (n, base) => ({
    nodes: [{ ...base, id: base.id!, type: 'subflow-in', name: n.name, props: {} }], entries: [], outputs: [[{ nodeId: base.id!, port: 0 }]], trigger: 'other', notes: [],
    // n8n's Execute Workflow gets the output of the sub-workflow's last node.
    respondWithLastNode: { responseData: 'firstEntryJson', caller: true },
  }),
  'n8n-nodes-base.noOp': () => ({ nodes: [], entries: [], outputs: ['input'], notes: [] }),
  'n8n-nodes-base.stickyNote': (n, base) => ({
    nodes: [{ ...base, id: base.id!, type: 'comment', name: n.name, props: { info: String(n.parameters?.content ?? '') } }], entries: [], outputs: [], notes: [],
  }),
};

export function translateN8nNode(node: N8nNode, base: Partial<FlowNode>, refs: NodeRefs): Translation {
  const translator = TRANSLATORS[node.type];
  if (!translator) throw new UnmappedN8nNode(`no Flowcrew equivalent for n8n node type "${node.type}"`);
  return translator(node, base, refs);
}

export const n8nTypesSupported = () => Object.keys(TRANSLATORS);

function webhook(n: N8nNode, base: Partial<FlowNode>): Translation {
  const p = n.parameters ?? {};
  const options = isObject(p.options) ? p.options : {};
  const method = String(p.httpMethod ?? 'GET').toUpperCase();
  const path = String(p.path ?? n.webhookId ?? n.id ?? n.name).replace(/^\/+/, '');
  const id = base.id!;
  // n8n's item for a webhook call: { headers, params, query, body }.
  const shape = change(`${id}-item`, `${n.name}: n8n item`, [setJsonata('payload', '{"headers": req.headers, "params": req.params, "query": req.query, "body": req.method = "GET" ? {} : payload}')], { position: offset(base.position, 0, 60) });
  const nodes: FlowNode[] = [{ ...base, id, type: 'webhook', name: n.name, props: { method, url: `/${path}` }, wires: [[shape.id]] }, shape];
  const responseMode = String(p.responseMode ?? 'onReceived');
  const notes: string[] = [];
  const responseCode = typeof options.responseCode === 'number' ? options.responseCode : undefined;
  if (responseMode === 'onReceived') {
    const data = String(options.responseData ?? '');
    const body = data === 'noData' ? '""' : '{"message": "Workflow was started"}';
    const answer = change(`${id}-started`, `${n.name}: started`, [setJsonata('payload', body)], { position: offset(base.position, 0, -60) });
    const respond: FlowNode = { id: `${id}-started-response`, type: 'webhook-response', name: `${n.name}: respond at once`, position: offset(base.position, 200, -60), props: responseCode ? { statusCode: responseCode } : {} };
    answer.wires = [[respond.id]];
    nodes[0]!.wires![0]!.push(answer.id);
    nodes.push(answer, respond);
  }
  return {
    nodes, entries: [], outputs: [[{ nodeId: shape.id, port: 0 }]], trigger: 'webhook', notes,
    ...(responseMode === 'lastNode' ? { respondWithLastNode: { responseData: String(options.responseData ?? 'firstEntryJson'), ...(responseCode ? { responseCode } : {}) } } : {}),
  };
}

function respondToWebhook(n: N8nNode, base: Partial<FlowNode>, refs: NodeRefs): Translation {
  const p = n.parameters ?? {};
  const options = isObject(p.options) ? p.options : {};
  const respondWith = String(p.respondWith ?? 'firstIncomingItem');
  const rules: Array<Record<string, unknown>> = [];
  const headers: Record<string, string> = {};
  const entries = isObject(options.responseHeaders) && Array.isArray(options.responseHeaders.entries) ? options.responseHeaders.entries.filter(isObject) : [];
  for (const h of entries) {
    if (typeof h.value === 'string' && h.value.startsWith('=')) rules.push(setJsonata(`headers["${String(h.name)}"]`, valueJsonata(h.value, refs)));
    else headers[String(h.name)] = String(h.value ?? '');
  }
  let statusCode = typeof options.responseCode === 'number' ? options.responseCode : undefined;
  switch (respondWith) {
    case 'firstIncomingItem': break;
    case 'allIncomingItems': break; // gathered by a function node before (n8n-merge.ts allItemsCode)
    case 'noData': rules.push(setJsonata('payload', '""')); break;
    case 'text': rules.push(setJsonata('payload', `$string(${valueJsonata(p.responseBody ?? '', refs)})`)); break;
    case 'json': {
      const body = p.responseBody;
      if (typeof body === 'string' && !body.startsWith('=')) {
        let parsed: unknown;
        try { parsed = JSON.parse(body); } catch { throw new UnmappedN8nNode(`its JSON response body is not valid JSON: ${body.slice(0, 80)}`); }
        rules.push(setJsonata('payload', JSON.stringify(parsed)));
      } else rules.push(setJsonata('payload', jsonBody(body, refs)));
      break;
    }
    case 'redirect':
      statusCode = statusCode ?? 307;
      rules.push(setJsonata('headers.location', valueJsonata(p.redirectURL ?? '', refs)), setJsonata('payload', '""'));
      break;
    default: throw new UnmappedN8nNode(`"respond with ${respondWith}" is not translated`);
  }
  const id = base.id!;
  const respond: FlowNode = { id: `${id}-response`, type: 'webhook-response', name: `${n.name}: response`, position: offset(base.position, 200, 0), props: { ...(statusCode ? { statusCode } : {}), headers } };
  if (respondWith === 'allIncomingItems') {
    const gather: FlowNode = { id, type: 'function', name: `${n.name}: all items`, position: offset(base.position, -120, 0), props: { func: allItemsCode(), outputs: 1 }, wires: [[`${id}-prepare`]] };
    const prepare = change(`${id}-prepare`, n.name, rules, base);
    prepare.wires = [[respond.id]];
    return { nodes: [gather, prepare, respond], entries: [id], outputs: ['input'], responds: true, notes: [`Respond to Webhook "${n.name}" (all incoming items): the items a Merge sent together are gathered into one answer; an item a node between drops (IF, Filter) is waited for until ${MERGE_PENDING_RUNS} newer groups wait`] };
  }
  const prepare = change(id, n.name, rules, base);
  prepare.wires = [[respond.id]];
  // n8n passes the node's input on to its output unchanged.
  return { nodes: [prepare, respond], entries: [id], outputs: ['input'], responds: true, notes: [] };
}

/** A JSON body parameter "={{ ... }}" or "={ \"a\": {{ $json.x }} }". */
function jsonBody(body: unknown, refs: NodeRefs): string {
  if (typeof body !== 'string' || !body.startsWith('=')) return JSON.stringify(body ?? null);
  const text = body.slice(1).trim();
  if (text.startsWith('{{') && text.endsWith('}}')) return valueJsonata(body, refs);
  // A JSON document with {{ }} holes: fill them, then parse the text as JSON.
  return `$eval(${valueJsonata(body, refs)})`;
}

interface Field { name: string; jsonata: string }

/** A tree of dotted field names → a JSONata object constructor (deep-merged into `base` when given). */
function objectJsonata(fields: Field[], base: string | undefined, dotNotation: boolean): string {
  const tree = new Map<string, Field[] | string>();
  for (const f of fields) {
    const [head, ...rest] = dotNotation ? f.name.split('.') : [f.name];
    if (rest.length === 0) tree.set(head!, f.jsonata);
    else {
      const children = tree.get(head!);
      const list = Array.isArray(children) ? children : [];
      list.push({ name: rest.join('.'), jsonata: f.jsonata });
      tree.set(head!, list);
    }
  }
  const parts = [...tree].map(([key, value]) => {
    const inner = typeof value === 'string' ? value : objectJsonata(value, base !== undefined ? `${base}.${quoteJsonataName(key)}` : undefined, dotNotation);
    return `${JSON.stringify(key)}: ${inner}`;
  });
  const literal = `{${parts.join(', ')}}`;
  return base !== undefined ? `$merge([$type(${base}) = "object" ? ${base} : {}, ${literal}])` : literal;
}

function typed(value: unknown, type: string, refs: NodeRefs): string {
  const v = valueJsonata(value, refs);
  switch (type) {
    case 'number': return `$number(${v})`;
    case 'boolean': return typeof value === 'boolean' ? v : `(${v} = true or $lowercase($string(${v})) = "true")`;
    case 'object': case 'array': return typeof value === 'string' && !value.startsWith('=') ? JSON.stringify(JSON.parse(value || (type === 'array' ? '[]' : '{}'))) : `($type(${v}) = "string" ? $eval(${v}) : ${v})`;
    default: return typeof value === 'string' && value.startsWith('=') ? v : JSON.stringify(value == null ? '' : String(value));
  }
}

function setNode(n: N8nNode, base: Partial<FlowNode>, refs: NodeRefs): Translation {
  const p = n.parameters ?? {};
  const version = n.typeVersion ?? 1;
  const options = isObject(p.options) ? p.options : {};
  const dotNotation = options.dotNotation !== false;
  const fields: Field[] = [];
  let keepOthers: boolean;
  if (version >= 3) {
    keepOthers = version >= 3.3 ? p.includeOtherFields === true : String(p.include ?? 'all') === 'all';
    if (p.includeOtherFields === true && p.include !== undefined && p.include !== 'all') throw new UnmappedN8nNode(`"include ${String(p.include)} fields" is not translated`);
    if (p.mode === 'raw') {
      const json = jsonBody(p.jsonOutput ?? '{}', refs);
      const rule = setJsonata('payload', keepOthers ? `$merge([payload, ${json}])` : json);
      return { nodes: [change(base.id!, n.name, [rule], base)], entries: [base.id!], outputs: [[{ nodeId: base.id!, port: 0 }]], notes: [] };
    }
    const assignments = isObject(p.assignments) && Array.isArray(p.assignments.assignments) ? p.assignments.assignments.filter(isObject) : [];
    for (const a of assignments) fields.push({ name: String(a.name), jsonata: typed(a.value, String(a.type ?? 'string'), refs) });
    const legacy = isObject(p.fields) && Array.isArray(p.fields.values) ? p.fields.values.filter(isObject) : [];
    for (const f of legacy) {
      const type = String(f.type ?? 'stringValue').replace(/Value$/, '');
      fields.push({ name: String(f.name), jsonata: typed(f[`${type}Value`] ?? f.stringValue, type, refs) });
    }
  } else {
    keepOthers = p.keepOnlySet !== true;
    const values = isObject(p.values) ? p.values : {};
    for (const type of ['string', 'number', 'boolean']) {
      const list = Array.isArray(values[type]) ? (values[type] as unknown[]).filter(isObject) : [];
      for (const f of list) fields.push({ name: String(f.name), jsonata: typed(f.value ?? (type === 'number' ? 0 : type === 'boolean' ? false : ''), type, refs) });
    }
  }
  const rule = setJsonata('payload', objectJsonata(fields, keepOthers ? 'payload' : undefined, dotNotation));
  return { nodes: [change(base.id!, n.name, [rule], base)], entries: [base.id!], outputs: [[{ nodeId: base.id!, port: 0 }]], notes: [] };
}

/** IF (true, false ports) and Filter (kept items only): a switch on JSONata conditions. */
function conditionSwitch(n: N8nNode, base: Partial<FlowNode>, conditions: string[], withOtherwise: boolean): Translation {
  const rules: Array<Record<string, unknown>> = conditions.map((v) => ({ t: 'jsonata_exp', v, vt: 'jsonata' }));
  if (withOtherwise) rules.push({ t: 'else' });
  const node: FlowNode = { ...base, id: base.id!, type: 'switch', name: n.name, props: { property: 'payload', propertyType: 'msg', rules, checkall: 'false', outputs: rules.length } };
  return { nodes: [node], entries: [node.id], outputs: rules.map((_, port) => [{ nodeId: node.id, port }]), notes: [] };
}

function switchNode(n: N8nNode, base: Partial<FlowNode>, refs: NodeRefs): Translation {
  const p = n.parameters ?? {};
  if ((n.typeVersion ?? 1) < 3) throw new UnmappedN8nNode('Switch before version 3 (dataType/value rules) is not translated; open and save it in a current n8n first');
  const options = isObject(p.options) ? p.options : {};
  if (p.mode === 'expression') {
    const count = typeof p.numberOutputs === 'number' ? p.numberOutputs : 4;
    const index = valueJsonata(p.output, refs);
    return conditionSwitch(n, base, Array.from({ length: count }, (_, i) => `(${index}) = ${i}`), false);
  }
  const values = isObject(p.rules) && Array.isArray(p.rules.values) ? p.rules.values.filter(isObject) : [];
  const conditions = values.map((rule) => translateConditions(rule, refs));
  const allMatching = options.allMatchingOutputs === true;
  const fallback = options.fallbackOutput;
  const rules: Array<Record<string, unknown>> = conditions.map((v) => ({ t: 'jsonata_exp', v, vt: 'jsonata' }));
  const extra = fallback === 'extra';
  if (extra) rules.push({ t: 'else' });
  const node: FlowNode = { ...base, id: base.id!, type: 'switch', name: n.name, props: { property: 'payload', propertyType: 'msg', rules, checkall: allMatching ? 'true' : 'false', outputs: rules.length } };
  const outputs: Output[] = rules.map((_, port) => [{ nodeId: node.id, port }]);
  const notes: string[] = [];
  if (typeof fallback === 'number') {
    // "Fallback output: output N": unmatched items go to an existing output.
    rules.push({ t: 'else' });
    (node.props as { outputs: number }).outputs = rules.length;
    (outputs[fallback] as Array<{ nodeId: string; port: number }>).push({ nodeId: node.id, port: rules.length - 1 });
  }
  return { nodes: [node], entries: [node.id], outputs, notes };
}

/** The n8n Code node's helpers, over one message = one item. */
const CODE_PRELUDE = `const __item = { json: msg.payload ?? {} };
const items = [__item];
const $input = { all: () => items, first: () => __item, last: () => __item, item: __item };
const $json = __item.json;
const __kept = (name) => { const it = { json: (msg.n8n ?? {})[name] }; return { item: it, first: () => it, last: () => it, all: () => [it] }; };
const $ = (name) => __kept(name);
const $node = new Proxy({}, { get: (_, name) => ({ json: (msg.n8n ?? {})[name] }) });
const __result = await (async () => {
`;

function code(n: N8nNode, base: Partial<FlowNode>): Translation {
  const p = n.parameters ?? {};
  if (p.language && p.language !== 'javaScript') throw new UnmappedN8nNode(`Code in ${String(p.language)} is not translated (only JavaScript runs in the sandbox)`);
  const user = String(p.jsCode ?? p.functionCode ?? '');
  const perItem = p.mode === 'runOnceForEachItem';
  const epilogue = `
})();
const __list = Array.isArray(__result) ? __result : __result == null ? [] : [__result];
return [__list.map((it) => ({ ...msg, payload: it !== null && typeof it === 'object' && 'json' in it ? it.json : it }))];`;
  const body = perItem ? `${CODE_PRELUDE}${user}\n${epilogue}` : `${CODE_PRELUDE}${user}\n${epilogue}`;
  const node: FlowNode = { ...base, id: base.id!, type: 'function', name: n.name, props: { func: body, outputs: 1 } };
  return { nodes: [node], entries: [node.id], outputs: [[{ nodeId: node.id, port: 0 }]], notes: [`Code "${n.name}" runs once per item (one message), with $input/$json/$('Node') over that item`] };
}

function httpRequest(n: N8nNode, base: Partial<FlowNode>, refs: NodeRefs): Translation {
  const p = n.parameters ?? {};
  if ((n.typeVersion ?? 1) < 3) throw new UnmappedN8nNode('HTTP Request before version 3 is not translated');
  if (p.authentication && p.authentication !== 'none') throw new UnmappedN8nNode(`HTTP Request authentication "${String(p.authentication)}" needs a Flowcrew credential: add it on the http-request node`);
  const pairs = (key: string) => {
    const holder = p[key];
    const list = isObject(holder) && Array.isArray(holder.parameters) ? holder.parameters.filter(isObject) : [];
    return `{${list.map((x) => `${JSON.stringify(String(x.name))}: ${valueJsonata(x.value, refs)}`).join(', ')}}`;
  };
  const rules: Array<Record<string, unknown>> = [setJsonata('method', JSON.stringify(String(p.method ?? 'GET')))];
  const url = valueJsonata(p.url ?? '', refs);
  if (p.sendQuery === true) {
    rules.push(setJsonata('url', `(${url}) & ($count($keys(${pairs('queryParameters')})) > 0 ? ($contains(${url}, "?") ? "&" : "?") & $join($each(${pairs('queryParameters')}, function($v, $k) { $encodeUrlComponent($k) & "=" & $encodeUrlComponent($string($v)) }), "&") : "")`));
  } else rules.push(setJsonata('url', url));
  rules.push(setJsonata('headers', p.sendHeaders === true ? pairs('headerParameters') : '{}'));
  if (p.sendBody === true) {
    const body = p.specifyBody === 'json' ? jsonBody(p.jsonBody ?? '{}', refs) : pairs('bodyParameters');
    rules.push(setJsonata('payload', body));
    if (p.contentType === 'form-urlencoded') rules.push(setJsonata('headers', '$merge([headers, {"content-type": "application/x-www-form-urlencoded"}])'));
    else if (p.contentType && p.contentType !== 'json') throw new UnmappedN8nNode(`HTTP Request body type "${String(p.contentType)}" is not translated`);
  } else rules.push({ t: 'delete', p: 'payload', pt: 'msg' });
  const id = base.id!;
  const prepare = change(`${id}-request`, `${n.name}: request`, rules, { position: offset(base.position, -120, 0) });
  const options = isObject(p.options) ? p.options : {};
  const request: FlowNode = { ...base, id, type: 'http-request', name: n.name, props: { method: 'use', ret: 'obj', ...(typeof options.timeout === 'number' ? { timeout: options.timeout } : {}) } };
  prepare.wires = [[id]];
  return { nodes: [prepare, request], entries: [prepare.id], outputs: [[{ nodeId: id, port: 0 }]], notes: [] };
}

const UNITS: Record<string, string> = { seconds: 'seconds', minutes: 'minutes', hours: 'hours', days: 'days' };

function wait(n: N8nNode, base: Partial<FlowNode>): Translation {
  const p = n.parameters ?? {};
  const resume = String(p.resume ?? 'timeInterval');
  if (resume !== 'timeInterval') throw new UnmappedN8nNode(`Wait "resume ${resume}" is not translated (only a time interval)`);
  const amount = typeof p.amount === 'number' ? p.amount : 1;
  const unit = UNITS[String(p.unit ?? 'hours')];
  if (!unit) throw new UnmappedN8nNode(`Wait unit "${String(p.unit)}" is not translated`);
  const node: FlowNode = { ...base, id: base.id!, type: 'delay', name: n.name, props: { pauseType: 'delay', timeout: amount, timeoutUnits: unit } };
  return { nodes: [node], entries: [node.id], outputs: [[{ nodeId: node.id, port: 0 }]], notes: [] };
}

function executeWorkflow(n: N8nNode, base: Partial<FlowNode>): Translation {
  const p = n.parameters ?? {};
  if (p.source && p.source !== 'database') throw new UnmappedN8nNode(`Execute Workflow from "${String(p.source)}" is not translated (only a stored workflow)`);
  const ref = isObject(p.workflowId) ? p.workflowId.value : p.workflowId;
  if (typeof ref !== 'string' || ref === '' || ref.startsWith('=')) throw new UnmappedN8nNode('Execute Workflow needs a fixed workflow id');
  const node: FlowNode = { ...base, id: base.id!, type: 'subflow-call', name: n.name, props: { flowId: n8nFlowId(ref) } };
  return { nodes: [node], entries: [node.id], outputs: [[{ nodeId: node.id, port: 0 }]], notes: [`Execute Workflow "${n.name}" calls flow "${n8nFlowId(ref)}": import that workflow too`] };
}

/** The Flowcrew flow id of an n8n workflow id (kept when valid, so Execute Workflow references still resolve). */
export const n8nFlowId = (id: string) => (/^[A-Za-z0-9_.:-]{1,100}$/.test(id) ? `n8n-${id}` : `n8n-${id.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 100)}`);

export function offset(position: FlowNode['position'], dx: number, dy: number): FlowNode['position'] {
  return position ? { x: position.x + dx, y: position.y + dy } : undefined;
}

export { UntranslatableExpression };
