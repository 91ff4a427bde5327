/**
 * What the function sandbox process (function-sandbox-process.js) puts in each realm: the parameters user code
 * sees, and the bootstrap run once per isolate (the API over the dispatcher: send, log, status, context, env,
 * timers, node.done). Plain JavaScript, as the process starts without the TypeScript loader.
 */
/** The parameters every piece of user code sees, in this order (Node-RED's function node globals). */
export const PARAMS = ['msg', 'node', 'context', 'flow', 'global', 'env', 'RED', 'console', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'];

/**
 * Runs inside the isolate, once per realm. $0 is the dispatcher Reference, $1 the node's info.
 * The references stay in this closure, out of reach of user code.
 */
export const BOOTSTRAP = `
const host = $0;
const info = $1;
const functions = Object.create(null);
const timers = new Map();
let nextTimerId = 1;
const call = (...args) => host.applySyncPromise(undefined, args, { arguments: { copy: true } });
const callQuietly = (...args) => { try { call(...args); } catch (e) { /* the call already finished */ } };

const describe = (value) => {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return String(value);
  try { return JSON.stringify(value) ?? String(value); } catch (e) { return String(value); }
};
const errorInfo = (error) => ({ message: describe(error), stack: error instanceof Error ? String(error.stack || '') : '' });
const cloneMessage = (value) => {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) return value.map(cloneMessage);
  const copy = {};
  for (const key of Object.keys(value)) copy[key] = cloneMessage(value[key]);
  return copy;
};
const RED = Object.freeze({ util: Object.freeze({ cloneMessage }) });
// Node-RED's env.get(): the node's own NR_* names, else the flow's variables as the server resolved them at deploy.
const envApi = (callId) => Object.freeze({
  get(name) {
    switch (name) {
      case 'NR_NODE_ID': return info.id;
      case 'NR_NODE_NAME': return info.name;
      case 'NR_FLOW_ID': return info.flowId;
      default: return call(callId, 'env', String(name));
    }
  },
});

// Node-RED's context API: get/set/keys, sync or with a trailing callback(err, ...values); arrays of keys allowed.
const contextApi = (callId, scope) => {
  const callbackOf = (args) => (typeof args[args.length - 1] === 'function' ? args[args.length - 1] : undefined);
  const getOne = (key) => call(callId, 'ctx.get', scope, String(key));
  return {
    get(key, ...rest) {
      const callback = callbackOf(rest);
      const value = Array.isArray(key) ? key.map(getOne) : getOne(key);
      if (!callback) return value;
      if (Array.isArray(key)) callback(null, ...value); else callback(null, value);
    },
    set(key, value, ...rest) {
      if (Array.isArray(key)) key.forEach((k, i) => call(callId, 'ctx.set', scope, String(k), Array.isArray(value) ? value[i] : undefined));
      else call(callId, 'ctx.set', scope, String(key), value);
      const callback = callbackOf(rest);
      if (callback) callback(null);
    },
    keys(...rest) {
      const keys = call(callId, 'ctx.keys', scope);
      const callback = callbackOf(rest);
      if (!callback) return keys;
      callback(null, keys);
    },
  };
};

const timerApi = (callId, repeat) => (fn, ms, ...args) => {
  if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be a function');
  const id = nextTimerId++;
  timers.set(id, { callId, fn, args, repeat });
  call(callId, 'timer', id, Math.max(0, Number(ms) || 0), repeat);
  return id;
};
const clearTimer = (id) => {
  const timer = timers.get(id);
  if (!timer) return;
  timers.delete(id);
  callQuietly(timer.callId, 'untimer', id);
};

const nodeApi = (callId) => {
  const log = (level) => (message) => call(callId, 'log', level, describe(message));
  return Object.freeze({
    id: info.id,
    name: info.name,
    path: info.flowId + '/' + info.id,
    outputCount: info.outputs,
    log: log('info'), warn: log('warn'), debug: log('debug'), trace: log('debug'),
    error: (message, msg) => call(callId, 'error', describe(message), msg !== undefined && msg !== null),
    status: (status) => call(callId, 'status', status !== null && typeof status === 'object' ? status : { text: describe(status) }),
    send: (msgs) => call(callId, 'send', msgs),
    done: (error) => call(callId, 'done', error === undefined || error === null ? null : errorInfo(error)),
  });
};

return {
  install(part, fn) { functions[part] = fn; },
  invoke(part, callId, msg) {
    const node = nodeApi(callId);
    const flow = contextApi(callId, 'flow');
    const global = contextApi(callId, 'global');
    const context = Object.assign(contextApi(callId, 'node'), { flow, global });
    const console = Object.freeze({ log: node.log, info: node.log, warn: node.warn, debug: node.debug, error: (m) => call(callId, 'log', 'error', describe(m)) });
    const env = envApi(callId);
    new Promise((resolve) => resolve(functions[part](msg, node, context, flow, global, env, RED, console,
      timerApi(callId, false), clearTimer, timerApi(callId, true), clearTimer)))
      .then(
        (value) => { try { call(callId, 'return', value); } catch (e) { callQuietly(callId, 'fail', errorInfo(e)); } },
        (error) => callQuietly(callId, 'fail', errorInfo(error)),
      );
  },
  fire(timerId) {
    const timer = timers.get(timerId);
    if (!timer) return;
    if (!timer.repeat) timers.delete(timerId);
    try { timer.fn(...timer.args); } catch (error) { callQuietly(timer.callId, 'fail', errorInfo(error)); }
  },
  forget(callId) {
    for (const [id, timer] of timers) if (timer.callId === callId) timers.delete(id);
  },
};
`;
