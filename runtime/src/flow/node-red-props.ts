/**
 * Per node type, what Node-RED itself normalises when it loads a node (its core nodes' constructors and editor
 * migrations, 0.x to 4.x), done once at import so Flowcrew's props schemas see the values they describe. Every change
 * is reported through the PropsEditor (translated, defaulted, dropped or ignored).
 */
import { mqttIn, mqttOut } from './node-red-mqtt.ts';
import { fileIn, fileOut, watch } from './node-red-files.ts';
import { NODE_RED_VALUE_TYPES, PropsEditor } from './node-red-values.ts';

/** What a rule may ask of the export around the node. */
export interface NormaliseContext {
  /** Ids (Node-RED) of the other flow nodes in the same group as `nodeId`, for scope "group". */
  groupMembers(nodeId: string): string[];
  nodeId: string;
  warn(message: string): void;
  /** A node of the export by its Node-RED id (configuration nodes included), for nodes whose config lives there. */
  configNode?(id: string): Record<string, unknown> | undefined;
}

type Rule = (p: PropsEditor, ctx: NormaliseContext) => void;

const EDITOR_ONLY = 'editor state only';

/** Scope of catch/status/complete: Node-RED 3's "group" scope means the nodes of the node's own group. */
function groupScope(p: PropsEditor, ctx: NormaliseContext): void {
  if (p.get('scope') === 'group') p.translate('scope', ctx.groupMembers(ctx.nodeId), 'scope "group": the nodes of this node\'s group in Node-RED');
}

const inject: Rule = (p) => {
  if (!Array.isArray(p.get('props'))) {
    // Before Node-RED 1.1 an inject node had only payload/payloadType/topic.
    p.translate('props', [{ p: 'payload' }, { p: 'topic', vt: 'str' }], 'no props (before Node-RED 1.1): the payload and topic it sends');
  }
  const payloadType = p.get('payloadType');
  if (payloadType === undefined || payloadType === null || payloadType === '') {
    // Node-RED 0.x: no payloadType meant a timestamp for an empty payload, else the string.
    const payload = p.get('payload');
    p.default('payloadType', payload === undefined || payload === '' ? 'date' : 'str', 'no payload type (Node-RED 0.x): a timestamp when the payload is empty, else a string');
  }
  const items = [...p.items('props')];
  for (const [item, at] of items) {
    if (item.p === 'payload' && !('v' in item)) {
      p.translate('v', p.get('payload') ?? '', 'the payload entry takes its value from the node\'s legacy payload', item, `${at}/v`);
      p.translate('vt', p.get('payloadType'), 'the payload entry takes its type from the node\'s legacy payloadType', item, `${at}/vt`);
    } else if (item.p === 'topic' && item.vt === 'str' && !('v' in item)) {
      p.translate('v', p.get('topic') ?? '', 'the topic entry takes its value from the node\'s legacy topic', item, `${at}/v`);
    }
    if (item.vt === 'none') {
      // Node-RED 0.x "none": an empty string payload.
      p.translate('vt', 'str', 'type "none" (Node-RED 0.x) sends an empty string', item, `${at}/vt`);
      p.translate('v', '', 'type "none" (Node-RED 0.x) sends an empty string', item, `${at}/v`);
    } else if (item.vt === '' || item.vt === null) p.default('vt', 'str', 'empty type: Node-RED evaluates it as a string', item, `${at}/vt`);
  }
  // Everything the legacy fields said now lives in props.
  if (items.length > 0) p.dropAll(['payload', 'payloadType', 'topic'], 'legacy fields, read into the props entries');
  p.bool('once', false);
};

const debug: Rule = (p) => {
  for (const key of ['active', 'tosidebar', 'console', 'tostatus']) p.bool(key);
  const complete = p.get('complete');
  const targetType = p.get('targetType');
  if (targetType !== 'jsonata') {
    if (complete === true || complete === 'true') {
      if (complete === true) p.translate('complete', 'true', 'a boolean: the whole message');
      if (targetType !== 'full') p.default('targetType', 'full', 'complete "true": the whole message');
    } else if (complete === false || complete === 'false' || complete === '' || complete === undefined || complete === null) {
      if (p.has('complete')) p.translate('complete', 'payload', 'complete "false" (Node-RED 0.x): msg.payload');
      if (targetType === undefined || targetType === '') p.default('targetType', 'msg', 'no target type: a message property');
    } else if (targetType === undefined || targetType === '') p.default('targetType', 'msg', 'no target type: a message property');
  }
  p.oneOf('statusType', ['auto', 'msg', 'jsonata', 'counter'], 'auto');
};

const fn: Rule = (p) => {
  p.integer('outputs');
  if (typeof p.get('timeout') === 'string') {
    const seconds = Number(p.get('timeout'));
    if (p.get('timeout') === '' || Number.isNaN(seconds)) p.default('timeout', 0, 'empty: no time limit of its own');
    else p.translate('timeout', seconds, 'a number stored as a string');
  }
  p.drop('noerr', `${EDITOR_ONLY} (the editor's count of syntax errors)`);
};

const change: Rule = (p) => {
  if (!Array.isArray(p.get('rules'))) {
    // Node-RED 0.x: one rule in action/property/from/to/reg ("replace" meant set).
    const action = p.get('action') === 'replace' ? 'set' : p.get('action');
    const rule: Record<string, unknown> = { t: action, p: p.get('property') ?? '' };
    if (action === 'set' || action === 'move') rule.to = p.get('to') ?? '';
    else if (action === 'change') Object.assign(rule, { from: p.get('from') ?? '', to: p.get('to') ?? '', re: p.get('reg') === null || p.get('reg') === true });
    p.translate('rules', [rule], 'a single-rule change node (Node-RED 0.x): its action/property/from/to/reg as one rule');
  }
  p.dropAll(['action', 'property', 'from', 'to', 'reg'], 'legacy single-rule fields (Node-RED 0.x), unused once rules exist');
  for (const [rule, at] of p.items('rules')) {
    if (!rule.pt) p.default('pt', 'msg', 'no property type (before Node-RED 0.16): a message property', rule, `${at}/pt`);
    if (rule.t === 'change' && rule.re) {
      p.translate('fromt', 're', 'the legacy "re" flag: a regular expression', rule, `${at}/fromt`);
      delete rule.re;
    }
    if (rule.t === 'set' && !rule.tot && typeof rule.to === 'string' && rule.to.startsWith('msg.')) {
      p.translate('to', rule.to.substring(4), 'a legacy "msg." value: a message property', rule, `${at}/to`);
      p.translate('tot', 'msg', 'a legacy "msg." value: a message property', rule, `${at}/tot`);
    }
    if ((rule.t === 'set' || rule.t === 'change') && !rule.tot) p.default('tot', 'str', 'no value type: a string', rule, `${at}/tot`);
    if (rule.t === 'move' && !rule.tot) p.default('tot', 'msg', 'no target type: a message property', rule, `${at}/tot`);
    if (rule.t === 'change' && !rule.fromt) p.default('fromt', 'str', 'no search type: a string', rule, `${at}/fromt`);
    if ('dc' in rule) p.bool('dc', false, rule, `${at}/dc`);
    for (const key of ['to', 'from'] as const) if (rule[key] === null) p.default(key, '', 'null: an empty value', rule, `${at}/${key}`);
  }
};

const switchRule: Rule = (p) => {
  p.oneOf('propertyType', ['msg', 'flow', 'global', 'jsonata', 'env'], 'msg');
  if (!p.has('property') || p.get('property') === '') p.default('property', 'payload', 'empty: msg.payload');
  p.oneOf('checkall', ['true', 'false'], 'true', { true: 'true', false: 'false' });
  p.bool('repair', false);
  p.drop('outputs', 'Flowcrew counts the outputs from the rules');
  for (const [rule, at] of p.items('rules')) {
    // Node-RED 0.x rules had no value type: a number when it reads as one, else a string.
    if (!rule.vt && rule.t !== 'else' && 'v' in rule) p.default('vt', Number.isNaN(Number(rule.v)) ? 'str' : 'num', 'no value type (Node-RED 0.x): a number when it reads as one, else a string', rule, `${at}/vt`);
    if ('case' in rule) p.bool('case', false, rule, `${at}/case`);
  }
};

const template: Rule = (p) => {
  p.oneOf('fieldType', ['msg', 'flow', 'global'], 'msg');
  if (p.get('field') === '') p.default('field', 'payload', 'empty: msg.payload');
  p.oneOf('syntax', ['mustache', 'plain'], 'mustache');
  p.oneOf('output', ['str', 'json', 'yaml'], 'str');
};

const json: Rule = (p) => {
  p.oneOf('action', ['', 'str', 'obj'], '');
  if (p.get('property') === '') p.default('property', 'payload', 'empty: msg.payload');
  p.bool('pretty', false);
};

const csv: Rule = (p) => {
  p.bool('hdrin', false);
  p.oneOf('hdrout', ['none', 'all', 'once'], 'none', { true: 'all', false: 'none' });
  p.oneOf('multi', ['one', 'mult'], 'one');
  p.bool('strings', true);
  p.bool('include_empty_strings', false);
  p.bool('include_null_values', false);
  const spec = p.get('spec');
  // Node-RED runs "rfc" in its RFC 4180 mode and anything else (missing, "", older values) in the classic one.
  if (spec !== undefined && spec !== 'rfc' && spec !== '') p.translate('spec', '', `Node-RED reads ${JSON.stringify(spec)} as the classic (legacy) parser`);
  if (p.get('ret') === '') p.default('ret', spec === 'rfc' ? '\\r\\n' : '\\n', spec === 'rfc' ? 'empty: CRLF (RFC 4180 mode)' : 'empty: a newline');
};

const yaml: Rule = (p) => {
  if (p.get('property') === '') p.default('property', 'payload', 'empty: msg.payload');
};

const xml: Rule = (p) => {
  if (p.get('property') === '') p.default('property', 'payload', 'empty: msg.payload');
  for (const key of ['attr', 'chr']) if (p.get(key) === null) p.default(key, '', 'empty: the xml2js default key');
};

const html: Rule = (p) => {
  if (p.get('property') === '') p.default('property', 'payload', 'empty: msg.payload');
  p.oneOf('ret', ['html', 'text', 'attr', 'compl'], 'html');
  p.oneOf('as', ['single', 'multi'], 'single');
  if (p.get('chr') === '') p.default('chr', '_', 'empty: "_"');
};

const split: Rule = (p) => {
  p.oneOf('spltType', ['str', 'bin', 'len'], 'str');
  p.oneOf('arraySpltType', ['len'], 'len');
  p.bool('stream', false);
  if (p.get('addname') === null) p.default('addname', '', 'empty: no key copied');
  if (p.get('property') === '' || p.get('property') === null) p.default('property', 'payload', 'empty: msg.payload');
};

const join: Rule = (p) => {
  p.oneOf('mode', ['auto', 'custom', 'reduce'], 'auto');
  p.oneOf('build', ['string', 'array', 'object', 'merged', 'buffer'], 'array');
  p.oneOf('propertyType', ['msg', 'full'], 'msg');
  p.oneOf('joinerType', ['str', 'bin'], 'str');
  p.bool('accumulate', false);
  p.bool('reduceRight', false);
  if (p.get('count') === null) p.default('count', '', 'empty: msg.parts.count');
  if (p.get('timeout') === null) p.default('timeout', '', 'empty: no timeout');
  p.bool('useparts');
};

const delay: Rule = (p) => {
  p.oneOf('pauseType', ['delay', 'delayv', 'random', 'rate', 'queue', 'timed'], 'delay');
  for (const key of ['timeoutUnits', 'randomUnits']) p.oneOf(key, ['milliseconds', 'seconds', 'minutes', 'hours', 'days'], 'seconds');
  p.oneOf('rateUnits', ['second', 'minute', 'hour', 'day'], 'second');
  p.bool('drop', false);
  p.bool('allowrate', false);
  p.integer('outputs');
};

const httpIn: Rule = (p) => {
  // The runtime serves webhooks under /webhook; the path itself stays. Methods are upper case here.
  const method = p.get('method');
  if (typeof method === 'string' && method !== method.toUpperCase()) p.translate('method', method.toUpperCase(), 'Flowcrew writes HTTP methods in upper case');
  p.drop('swaggerDoc', "a reference to Node-RED's swagger plugin configuration");
  if (p.get('upload') === true || p.get('upload') === 'true') {
    p.translate('accept', ['application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data'], 'file uploads on: multipart/form-data is accepted too');
    p.drop('upload', 'file uploads: now in accept');
  } else p.drop('upload', 'file uploads off: multipart/form-data is refused (415); Node-RED accepts such a request without parsing it');
  // Kept (Node-RED 3.1+): the body as received, as base64 text where Node-RED gives a Buffer (see the differences).
  p.bool('skipBodyParsing', false);
};

const httpResponse: Rule = (p) => {
  if (p.get('statusCode') === null) p.default('statusCode', '', 'empty: msg.statusCode or 200');
  if (p.get('headers') === null || p.get('headers') === '') p.default('headers', {}, 'empty: no headers');
};

const httpRequest: Rule = (p) => {
  p.oneOf('method', ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'use'], 'GET', { get: 'GET', post: 'POST', put: 'PUT', patch: 'PATCH', delete: 'DELETE', head: 'HEAD', options: 'OPTIONS' });
  p.oneOf('ret', ['txt', 'bin', 'obj'], 'txt');
  p.oneOf('paytoqs', ['ignore', 'query', 'body'], 'ignore', { true: 'query', false: 'ignore' });
  p.oneOf('authType', ['', 'basic', 'bearer', 'digest'], '');
  p.drop('persist', 'Flowcrew keeps connections alive by itself');
  if (p.get('insecureHTTPParser') === true) p.ignore('insecureHTTPParser', 'Flowcrew always parses responses strictly');
  else p.drop('insecureHTTPParser', 'strict parsing, as this node did');
  // Node-RED's request errors (no connection, timeout) go to catch nodes AND, unless senderr, on as a message whose
  // payload is the error text; so do Flowcrew's with senderr off (its own default is on: the node fails).
  p.bool('senderr', false);
  if (!p.has('senderr')) p.default('senderr', false, 'not set (before Node-RED 2.1): a request error goes to catch nodes and on as a message');
  p.drop('proxy', 'a proxy configuration node: Flowcrew connects through its outbound guard');
};

const catchRule: Rule = (p, ctx) => {
  groupScope(p, ctx);
  if (p.get('scope') === '' || p.get('scope') === undefined) p.default('scope', null, 'empty: every node of the flow');
  p.bool('uncaught', false);
};

// ----- nodes Flowcrew added for imports (their props use Node-RED's names) -----

const trigger: Rule = (p) => {
  for (const [typeKey, valueKey] of [['op1type', 'op1'], ['op2type', 'op2']] as const) {
    const type = p.get(typeKey);
    if (type === 'val') {
      // Before Node-RED 0.19 a "val" was typed by its text: true/false a boolean, null a null, anything else a string.
      const text = String(p.get(valueKey) ?? '');
      if (text === 'true' || text === 'false') p.translate(typeKey, 'bool', 'type "val" (Node-RED 0.x): "true"/"false" is a boolean');
      else if (text === 'null') {
        p.translate(typeKey, 'json', 'type "val" (Node-RED 0.x): "null" is a null payload');
        p.translate(valueKey, 'null', 'type "val" (Node-RED 0.x): "null" is a null payload');
      } else p.translate(typeKey, 'str', 'type "val" (Node-RED 0.x): a string');
    } else if (type === 'null') {
      p.translate(typeKey, 'json', 'type "null": a null payload');
      p.translate(valueKey, 'null', 'type "null": a null payload');
    } else if (type === '' || type === null) p.default(typeKey, 'str', 'empty: a string');
  }
  p.bool('extend', false);
  p.bool('overrideDelay', false);
  p.oneOf('units', ['ms', 's', 'min', 'hr'], 'ms');
  p.oneOf('bytopic', ['all', 'topic'], 'all');
  if (p.get('topic') === '') p.default('topic', 'topic', 'empty: msg.topic');
  p.integer('outputs');
};

const range: Rule = (p) => {
  p.oneOf('action', ['scale', 'clamp', 'roll', 'drop'], 'scale');
  p.bool('round', false);
  if (p.get('property') === '' || p.get('property') === undefined) p.default('property', 'payload', 'empty: msg.payload');
};

const sort: Rule = (p) => {
  p.oneOf('order', ['ascending', 'descending'], 'ascending');
  p.bool('as_num', false);
  p.oneOf('targetType', ['msg', 'seq'], 'msg');
  p.oneOf('msgKeyType', ['elem', 'jsonata'], 'elem');
  p.oneOf('seqKeyType', ['msg', 'jsonata'], 'msg');
};

const batch: Rule = (p) => {
  p.oneOf('mode', ['count', 'interval', 'concat'], 'count');
  p.integer('count');
  p.integer('overlap');
  if (typeof p.get('interval') === 'string' && p.get('interval') !== '' && !Number.isNaN(Number(p.get('interval')))) p.translate('interval', Number(p.get('interval')), 'a number stored as a string');
  p.bool('allowEmptySequence', false);
  p.bool('honourParts', false);
};

const rbe: Rule = (p) => {
  p.oneOf('func', ['rbe', 'rbei', 'narrowband', 'narrowbandEq', 'deadband', 'deadbandEq'], 'rbe');
  if (typeof p.get('gap') === 'number') p.translate('gap', String(p.get('gap')), 'a number: Flowcrew keeps the gap as text ("10" or "10%")');
  if (typeof p.get('start') === 'number') p.translate('start', String(p.get('start')), 'a number: kept as text, as Node-RED does');
  p.oneOf('inout', ['in', 'out'], 'out');
  p.bool('septopics', true);
  if (p.get('property') === '' || p.get('property') === undefined) p.default('property', 'payload', 'empty: msg.payload');
  if (p.get('topi') === '') p.default('topi', 'topic', 'empty: msg.topic');
};

const statusRule: Rule = (p, ctx) => {
  groupScope(p, ctx);
  if (p.get('scope') === '' || p.get('scope') === undefined) p.default('scope', null, 'empty: every node of the flow');
};

const complete: Rule = (p, ctx) => {
  groupScope(p, ctx);
  p.bool('uncaught', false);
};

/** tcp and udp nodes: TLS configuration nodes are not imported. */
const plainSockets: Rule = (p) => {
  if (p.get('tls')) p.ignore('tls', 'TLS configuration nodes are not imported: this node uses plain TCP');
  else p.drop('tls', 'no TLS configuration');
  if (p.has('base64') && p.get('base64') !== true) p.drop('base64', 'off');
};

/** websocket in/out: the listener or client configuration node they name is inlined (mode, path or URL). */
const websocket: Rule = (p, ctx) => {
  const listener = ctx.configNode?.(String(p.get('server') ?? ''));
  const client = ctx.configNode?.(String(p.get('client') ?? ''));
  const config = listener?.type === 'websocket-listener' ? listener : client?.type === 'websocket-client' ? client : undefined;
  if (config === listener && listener) {
    p.translate('mode', 'server', 'from its websocket-listener configuration node');
    p.translate('path', String(listener.path ?? '/'), `served at /webhook${String(listener.path ?? '')} (Node-RED: at the root)`);
  } else if (config) {
    p.translate('mode', 'client', 'from its websocket-client configuration node');
    p.translate('url', String(config.path ?? ''), 'the websocket-client configuration node\'s URL');
    if (config.tls) ctx.warn(`websocket client ${ctx.nodeId}: its TLS configuration node is not imported (wss:// uses the system's CAs)`);
  } else ctx.warn(`websocket node ${ctx.nodeId}: its listener/client configuration node is not in the export; set its path or URL`);
  if (config && (config.wholemsg === 'true' || config.wholemsg === true)) p.translate('wholemsg', true, 'whole messages, from the configuration node');
  p.drop('server', 'the listener configuration node, inlined');
  p.drop('client', 'the client configuration node, inlined');
};

const RULES: Record<string, Rule> = {
  inject,
  debug,
  function: fn,
  change,
  switch: switchRule,
  template,
  json,
  csv,
  yaml,
  xml,
  html,
  split,
  join,
  delay,
  'http in': httpIn,
  'http response': httpResponse,
  'http request': httpRequest,
  catch: catchRule,
  trigger,
  range,
  sort,
  batch,
  rbe,
  status: statusRule,
  complete,
  'tcp in': plainSockets,
  'tcp out': plainSockets,
  'tcp request': plainSockets,
  exec: (p) => p.drop('winHide', 'a Windows-only option'),
  'websocket in': websocket,
  'websocket out': websocket,
  'mqtt in': mqttIn,
  'mqtt out': mqttOut,
  file: fileOut,
  'file in': fileIn,
  watch,
};

/** Normalise `props` (a Node-RED node's config, editor-only keys removed) in place. */
export function normaliseNodeRedProps(nodeRedType: string, props: PropsEditor, ctx: NormaliseContext): void {
  RULES[nodeRedType]?.(props, ctx);
}

/** The typed-input types Node-RED evaluates: a Flowcrew schema listing fewer refuses values Node-RED accepts. */
export { NODE_RED_VALUE_TYPES };
