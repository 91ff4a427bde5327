/**
 * The function node's sandbox: user code runs in an isolated-vm isolate (its own V8 heap, memory limit, CPU time limit).
 * Only copied data crosses the boundary: messages are copied in and out, and the code reaches the host through one
 * dispatcher Reference (send, log, status, context, timers). No require, process, fs or host object exists inside.
 *
 * One isolate per node, created at deploy; the user code is compiled once. If the code exhausts the memory limit, V8
 * disposes the isolate: the calls in it fail and the next message gets a freshly built one.
 */
import ivm from 'isolated-vm';
import type { ContextStore, NodeStatus } from '@flowcrew/sdk';
import { readContext, writeContext } from './node-property.ts';

export type FunctionPart = 'func' | 'initialize' | 'finalize';
type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface SandboxOptions {
  code: Partial<Record<FunctionPart, string>>;
  memoryLimitMb: number;
  /** Wall-clock limit for one call, including its awaits and timers. */
  timeoutMs: number;
  info: { id: string; name: string; flowId: string; outputs: number };
}

/** What one call of user code can reach on the host. */
export interface CallHost {
  send(output: unknown): void;
  log(level: LogLevel, message: string): void;
  status(status: NodeStatus): void;
  context: { node: ContextStore; flow: ContextStore; global: ContextStore };
  signal?: AbortSignal;
}

export interface CallOptions {
  /** Main code: the call lasts until its timers have run or node.done() is called. Initialize/finalize: until it returns. */
  awaitTimers: boolean;
}

/** The parameters every piece of user code sees, in this order (Node-RED's function node globals). */
const PARAMS = ['msg', 'node', 'context', 'flow', 'global', 'env', 'RED', 'console', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'];

/**
 * Runs inside the isolate, once per isolate. $0 is the host dispatcher Reference, $1 the node's info.
 * It keeps the references in this closure, so user code cannot reach them.
 */
const BOOTSTRAP = `
const host = $0;
const info = $1;
const functions = Object.create(null);
const timers = new Map();
let nextTimerId = 1;
const call = (...args) => host.applySync(undefined, args, { arguments: { copy: true }, result: { copy: true } });
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
const env = Object.freeze({
  get(name) {
    switch (name) {
      case 'NR_NODE_ID': return info.id;
      case 'NR_NODE_NAME': return info.name;
      case 'NR_FLOW_ID': return info.flowId;
      default: return undefined;
    }
  },
});

// Node-RED context API: get/set/keys, sync or with a trailing callback(err, ...values); arrays of keys allowed.
const contextApi = (callId, scope) => {
  const callbackOf = (args) => (typeof args[args.length - 1] === 'function' ? args[args.length - 1] : undefined);
  const getOne = (key) => call('ctx.get', callId, scope, String(key));
  return {
    get(key, ...rest) {
      const callback = callbackOf(rest);
      const value = Array.isArray(key) ? key.map(getOne) : getOne(key);
      if (!callback) return value;
      if (Array.isArray(key)) callback(null, ...value); else callback(null, value);
    },
    set(key, value, ...rest) {
      if (Array.isArray(key)) key.forEach((k, i) => call('ctx.set', callId, scope, String(k), Array.isArray(value) ? value[i] : undefined));
      else call('ctx.set', callId, scope, String(key), value);
      const callback = callbackOf(rest);
      if (callback) callback(null);
    },
    keys(...rest) {
      const keys = call('ctx.keys', callId, scope);
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
  call('timer', callId, id, Math.max(0, Number(ms) || 0), repeat);
  return id;
};
const clearTimer = (id) => {
  const timer = timers.get(id);
  if (!timer) return;
  timers.delete(id);
  callQuietly('untimer', timer.callId, id);
};

const nodeApi = (callId) => {
  const log = (level) => (message) => call('log', callId, level, describe(message));
  return Object.freeze({
    id: info.id,
    name: info.name,
    path: info.flowId + '/' + info.id,
    outputCount: info.outputs,
    log: log('info'), warn: log('warn'), debug: log('debug'), trace: log('debug'),
    error: (message, msg) => call('error', callId, describe(message), msg !== undefined && msg !== null),
    status: (status) => call('status', callId, status !== null && typeof status === 'object' ? status : { text: describe(status) }),
    send: (msgs) => call('send', callId, msgs),
    done: (error) => call('done', callId, error === undefined || error === null ? null : errorInfo(error)),
  });
};

return {
  install(part, fn) { functions[part] = fn; },
  invoke(part, callId, msg) {
    const node = nodeApi(callId);
    const flow = contextApi(callId, 'flow');
    const global = contextApi(callId, 'global');
    const context = Object.assign(contextApi(callId, 'node'), { flow, global });
    const console = Object.freeze({ log: node.log, info: node.log, warn: node.warn, error: (m) => call('log', callId, 'error', describe(m)), debug: node.debug });
    new Promise((resolve) => resolve(functions[part](msg, node, context, flow, global, env, RED, console,
      timerApi(callId, false), clearTimer, timerApi(callId, true), clearTimer)))
      .then(
        (value) => { try { call('return', callId, value); } catch (e) { callQuietly('fail', callId, errorInfo(e)); } },
        (error) => callQuietly('fail', callId, errorInfo(error)),
      );
  },
  fire(timerId) {
    const timer = timers.get(timerId);
    if (!timer) return;
    if (!timer.repeat) timers.delete(timerId);
    try { timer.fn(...timer.args); } catch (error) { callQuietly('fail', timer.callId, errorInfo(error)); }
  },
  forget(callId) {
    for (const [id, timer] of timers) if (timer.callId === callId) timers.delete(id);
  },
};
`;

/** One isolate with the bootstrap and the compiled user code. */
interface Realm {
  isolate: ivm.Isolate;
  invoke: ivm.Reference;
  fire: ivm.Reference;
  forget: ivm.Reference;
}

/** Host side of one call: collects what the code does, and settles when it is finished. */
class Call {
  readonly timers = new Map<number, NodeJS.Timeout>();
  readonly result: Promise<unknown>;
  readonly deadline: number;
  finished = false;
  private returned = false;
  private value: unknown;
  private doneCalled = false;
  private reportedError: string | undefined;
  private resolve!: (value: unknown) => void;
  private reject!: (error: Error) => void;

  constructor(
    readonly id: number,
    readonly part: FunctionPart,
    readonly realm: Realm,
    readonly host: CallHost,
    readonly options: CallOptions,
    timeoutMs: number,
    private readonly onFinish: (call: Call) => void,
  ) {
    this.deadline = Date.now() + timeoutMs;
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  returnedWith(value: unknown): void {
    this.returned = true;
    this.value = value;
    this.check();
  }

  done(error: Error | undefined): void {
    if (error) return this.finish(error);
    this.doneCalled = true;
    this.check();
  }

  /** node.error(text, msg): Node-RED hands the message to catch nodes; here the call fails with that text once finished. */
  reportError(message: string): void {
    this.reportedError ??= message;
  }

  check(): void {
    if (this.finished || !this.returned) return;
    if (this.doneCalled || !this.options.awaitTimers || this.timers.size === 0) this.finish();
  }

  finish(error?: Error): void {
    if (this.finished) return;
    this.finished = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.onFinish(this);
    if (error) this.reject(error);
    else if (this.reportedError !== undefined) this.reject(new Error(this.reportedError));
    else this.resolve(this.value);
  }
}

/** "message (line 3, col 7)", locating the error in the user's code as Node-RED does. */
function locate(part: FunctionPart, info: { message: string; stack: string }): Error {
  const where = new RegExp(`${part}:(\\d+):(\\d+)`).exec(info.stack);
  return new Error(where ? `${info.message} (line ${where[1]}, col ${where[2]})` : info.message);
}

export class FunctionSandbox {
  private realm: Realm;
  private readonly calls = new Map<number, Call>();
  private nextCallId = 1;
  private closed = false;
  private readonly dispatcher = new ivm.Reference((...args: unknown[]) => this.dispatch(args));

  /** Compiles the code; throws an Error naming the line of a syntax error. */
  constructor(private readonly options: SandboxOptions) {
    this.realm = this.boot();
  }

  has(part: FunctionPart): boolean {
    return Boolean(this.options.code[part]?.trim());
  }

  /** Run one part of the user code; resolves with what it returned. */
  async run(part: FunctionPart, msg: unknown, host: CallHost, options: CallOptions): Promise<unknown> {
    if (this.closed) throw new Error('function node is closed');
    if (this.realm.isolate.isDisposed) this.realm = this.boot();
    const { timeoutMs } = this.options;
    const call = new Call(this.nextCallId++, part, this.realm, host, options, timeoutMs, (c) => {
      this.calls.delete(c.id);
      if (!c.realm.isolate.isDisposed) c.realm.forget.applyIgnored(undefined, [c.id]);
    });
    this.calls.set(call.id, call);
    const deadline = setTimeout(() => call.finish(new Error(`function timed out after ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => call.finish(host.signal?.reason instanceof Error ? host.signal.reason : new Error('function cancelled'));
    if (host.signal?.aborted) onAbort();
    host.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      void this.enter(call, this.realm.invoke, [part, call.id, msg]);
      return await call.result;
    } finally {
      clearTimeout(deadline);
      host.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Dispose the isolate; calls still running fail. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const call of [...this.calls.values()]) call.finish(new Error('function node closed'));
    if (!this.realm.isolate.isDisposed) this.realm.isolate.dispose();
    this.dispatcher.release();
  }

  private boot(): Realm {
    const { code, info, memoryLimitMb } = this.options;
    const isolate = new ivm.Isolate({ memoryLimit: memoryLimitMb });
    try {
      const context = isolate.createContextSync();
      const api = context.evalClosureSync(BOOTSTRAP, [this.dispatcher, new ivm.ExternalCopy(info).copyInto()], { result: { reference: true } });
      const install = api.getSync('install', { reference: true });
      for (const part of ['func', 'initialize', 'finalize'] as const) {
        const source = code[part];
        if (!source?.trim()) continue;
        let script: ivm.Script;
        try {
          // The wrapper's first line is ours: lineOffset -1 makes line numbers those of the user's code.
          script = isolate.compileScriptSync(`(async function (${PARAMS.join(', ')}) {\n${source}\n})`, { filename: part, lineOffset: -1 });
        } catch (error) {
          const message = (error as Error).message;
          const where = /\[[^\]]*:(\d+):(\d+)\]$/.exec(message);
          const text = message.replace(/\s*\[[^\]]*\]$/, '');
          throw new Error(where ? `${part}: SyntaxError on line ${where[1]}, col ${where[2]}: ${text}` : `${part}: SyntaxError: ${text}`);
        }
        const fn = script.runSync(context, { reference: true });
        install.applySync(undefined, [part, fn.derefInto()]);
      }
      return {
        isolate,
        invoke: api.getSync('invoke', { reference: true }),
        fire: api.getSync('fire', { reference: true }),
        forget: api.getSync('forget', { reference: true }),
      };
    } catch (error) {
      isolate.dispose();
      throw error;
    }
  }

  /** Run code in the isolate for `call`, with what is left of its time; failures settle the call instead of throwing. */
  private async enter(call: Call, target: ivm.Reference, args: unknown[]): Promise<void> {
    const remaining = call.deadline - Date.now();
    if (remaining <= 0) return call.finish(new Error(`function timed out after ${this.options.timeoutMs} ms`));
    try {
      await target.apply(undefined, args, { arguments: { copy: true }, timeout: remaining });
    } catch (error) {
      if (call.realm.isolate.isDisposed && !this.closed) {
        // V8 disposed the isolate for exceeding the memory limit: every call in it is lost; the next message boots a new one.
        const lost = new Error(`function exceeded its ${this.options.memoryLimitMb} MB memory limit`);
        for (const other of [...this.calls.values()]) if (other.realm === call.realm) other.finish(lost);
        return;
      }
      const message = (error as Error).message;
      call.finish(/Script execution timed out/.test(message) ? new Error(`function timed out after ${this.options.timeoutMs} ms`) : (error as Error));
    }
  }

  /** Requests from inside the isolate. Arguments and result are copies. */
  private dispatch([op, callId, a, b, c]: unknown[]): unknown {
    const call = this.calls.get(callId as number);
    if (!call) throw new Error('this function call has already finished');
    const { host } = call;
    switch (op) {
      case 'send':
        return host.send(a);
      case 'log':
        return host.log(a as LogLevel, String(b));
      case 'error':
        host.log('error', String(a));
        if (b) call.reportError(String(a));
        return;
      case 'status':
        return host.status(a as NodeStatus);
      case 'ctx.get':
        return readContext(host.context[a as 'node' | 'flow' | 'global'], String(b));
      case 'ctx.set':
        return writeContext(host.context[a as 'node' | 'flow' | 'global'], String(b), c);
      case 'ctx.keys':
        return host.context[a as 'node' | 'flow' | 'global'].keys();
      case 'timer':
        return this.startTimer(call, a as number, b as number, c as boolean);
      case 'untimer':
        clearTimeout(call.timers.get(a as number));
        call.timers.delete(a as number);
        return call.check();
      case 'return':
        return call.returnedWith(a);
      case 'done':
        return call.done(a ? locate(call.part, a as { message: string; stack: string }) : undefined);
      case 'fail':
        return call.finish(locate(call.part, a as { message: string; stack: string }));
      default:
        throw new Error(`unknown sandbox request "${String(op)}"`);
    }
  }

  private startTimer(call: Call, timerId: number, ms: number, repeat: boolean): void {
    const arm = () =>
      setTimeout(() => {
        if (repeat) call.timers.set(timerId, arm());
        else call.timers.delete(timerId);
        void this.enter(call, call.realm.fire, [timerId]).then(() => call.check());
      }, ms);
    call.timers.set(timerId, arm());
  }
}
