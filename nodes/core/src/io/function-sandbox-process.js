/**
 * The function node's sandbox process (forked by function-sandbox.ts; plain JavaScript so it starts without the
 * TypeScript loader). User code runs here in isolated-vm isolates, never in the Flowcrew server:
 * some out-of-memory failures abort V8 outright, and then only this process goes; the server starts a new one.
 *
 * Each function node has a "realm": an isolate with the bootstrap below and the node's compiled code.
 * Everything the code asks for (send, log, status, context) is forwarded to the server and waited for
 * (applySyncPromise: the isolate blocks, this process's event loop keeps running).
 *
 * Protocol (IPC, advanced serialization), server → here:
 *   {t:'open', sandbox, spec} → {t:'opened', sandbox, error?}
 *   {t:'run', sandbox, call, part, msg, awaitTimers} → {t:'result', call, ok, value | error}
 *   {t:'cancel', call}   {t:'close', sandbox}   {t:'reply', req, ok, value | error}
 * here → server: {t:'request', req, call, op, args}, and {t:'catastrophe', sandbox} just before dying.
 *
 * The server starts this process with V8 flags that remove SharedArrayBuffer, Atomics, WebAssembly and resizable
 * ArrayBuffers from every isolate (see function-sandbox-pool.ts): their memory is not counted by an isolate's
 * memoryLimit, and shared memory could block a call for ever. The check below refuses to run without them.
 */
import { serialize } from 'node:v8';
import ivm from 'isolated-vm';
import { BOOTSTRAP, PARAMS } from './function-sandbox-bootstrap.js';

const uncounted = [
  typeof SharedArrayBuffer !== 'undefined' && 'SharedArrayBuffer',
  typeof Atomics !== 'undefined' && 'Atomics',
  typeof WebAssembly !== 'undefined' && 'WebAssembly',
  'resize' in ArrayBuffer.prototype && 'resizable ArrayBuffer',
].filter(Boolean);
if (uncounted.length > 0) {
  process.stderr.write(`function sandbox process: refusing to start with ${uncounted.join(', ')} available (start it with the V8 flags of function-sandbox-pool.ts)\n`);
  process.exit(78);
}

/**
 * @typedef {{ code: Record<string, string | undefined>, memoryLimitMb: number, timeoutMs: number, maxMessageBytes: number, maxMessageSetting: string, info: object }} Spec
 * @typedef {{ sandbox: number, isolate: ivm.Isolate, dispatcher: ivm.Reference, released: boolean, invoke: ivm.Reference, fire: ivm.Reference, forget: ivm.Reference }} Realm
 */

/** @type {Map<number, Spec>} */
const specs = new Map();
/** @type {Map<number, Realm>} */
const realms = new Map();
/** @type {Map<number, Call>} */
const calls = new Map();
/** @type {Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>} */
const requests = new Map();
let nextRequest = 1;

// The server may close the channel (shutdown, a reaped or replaced process) while a call is finishing: a write then
// fails with EPIPE, which must end this process quietly rather than as an unhandled 'error' event.
const send = (/** @type {object} */ message) => {
  if (process.connected) process.send?.(message, undefined, undefined, () => {});
};
process.on('error', () => {});

/** Most timers one call may have pending at once. */
const MAX_TIMERS = 10_000;

/** Ask the server to do something for a call (send, log, context, ...) and wait for its answer. */
function ask(/** @type {number} */ callId, /** @type {string} */ op, /** @type {unknown[]} */ args) {
  return new Promise((resolve, reject) => {
    const req = nextRequest++;
    requests.set(req, { resolve, reject });
    send({ t: 'request', req, call: callId, op, args });
  });
}

/**
 * "ReferenceError: x is not defined (line 3, col 7)": Node-RED locates a ReferenceError in the user's code and
 * reports every other error by its text alone (a catch node comparing error.message sees the same on both).
 */
function locate(/** @type {string} */ part, /** @type {{message: string, stack: string}} */ info) {
  if (!info.message.startsWith('ReferenceError')) return info.message;
  const where = new RegExp(`${part}:(\\d+):(\\d+)`).exec(info.stack);
  return where ? `${info.message} (line ${where[1]}, col ${where[2]})` : info.message;
}

/**
 * Whatever leaves the sandbox (a result, a sent message, a log line, a context value) may be no larger than the
 * message limit nor the node's memory limit: it is refused here, before the server has to copy it.
 */
function oversized(/** @type {unknown} */ value, /** @type {Spec} */ spec, /** @type {string} */ what) {
  let bytes;
  try {
    bytes = serialize(value).byteLength;
  } catch (error) {
    return `${what} cannot leave the sandbox: ${/** @type {Error} */ (error).message}`;
  }
  const memory = spec.memoryLimitMb * 1048576;
  if (bytes > spec.maxMessageBytes) return `${what} too large: ${mb(bytes)} MB, more than the limit of ${mb(spec.maxMessageBytes)} MB per message (${spec.maxMessageSetting})`;
  if (bytes > memory) return `${what} too large: ${mb(bytes)} MB, more than the ${spec.memoryLimitMb} MB memory limit`;
  return undefined;
}

const mb = (/** @type {number} */ bytes) => String(Math.round((bytes / 1048576) * 10) / 10);

/** What a request from user code hands to the server, for messages about its size. */
const REQUEST_WHAT = { send: 'message sent by the function', log: 'log message', 'ctx.set': 'context value', status: 'status' };

/** One run of user code: finished when it has returned and its timers have run (or node.done()), or on failure. */
class Call {
  /**
   * @param {number} id @param {string} part @param {Realm} realm @param {Spec} spec @param {boolean} awaitTimers
   */
  constructor(id, part, realm, spec, awaitTimers) {
    this.id = id;
    this.part = part;
    this.realm = realm;
    this.spec = spec;
    this.awaitTimers = awaitTimers;
    this.deadline = Date.now() + spec.timeoutMs;
    /** @type {Map<number, NodeJS.Timeout>} */
    this.timers = new Map();
    this.finished = false;
    this.returned = false;
    /** @type {unknown} */
    this.value = undefined;
    this.doneCalled = false;
    /** @type {string | undefined} */
    this.reportedError = undefined;
    this.deadlineTimer = setTimeout(() => this.finish(this.timedOut()), spec.timeoutMs);
  }

  timedOut() {
    return `function timed out after ${this.spec.timeoutMs} ms`;
  }

  check() {
    if (this.finished || !this.returned) return;
    if (this.doneCalled || !this.awaitTimers || this.timers.size === 0) this.finish();
  }

  /** @param {string} [error] */
  finish(error) {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.deadlineTimer);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    calls.delete(this.id);
    if (!this.realm.isolate.isDisposed) this.realm.forget.applyIgnored(undefined, [this.id]);
    const failure = error ?? this.reportedError ?? oversized(this.value, this.spec, 'function output');
    if (failure !== undefined) send({ t: 'result', call: this.id, ok: false, error: failure });
    else send({ t: 'result', call: this.id, ok: true, value: this.value });
  }

  /** Run code in the isolate for this call with what is left of its time; failures finish the call. */
  async enter(/** @type {ivm.Reference} */ target, /** @type {unknown[]} */ args) {
    const remaining = this.deadline - Date.now();
    if (remaining <= 0) return this.finish(this.timedOut());
    try {
      await target.apply(undefined, args, { arguments: { copy: true }, timeout: remaining });
    } catch (error) {
      if (this.realm.isolate.isDisposed) return realmLost(this.realm);
      const message = /** @type {Error} */ (error).message;
      this.finish(/Script execution timed out/.test(message) ? this.timedOut() : message);
    }
  }

  startTimer(/** @type {number} */ timerId, /** @type {number} */ ms, /** @type {boolean} */ repeat) {
    const arm = () =>
      setTimeout(() => {
        if (repeat) this.timers.set(timerId, arm());
        else this.timers.delete(timerId);
        void this.enter(this.realm.fire, [timerId]).then(() => this.check());
      }, ms);
    this.timers.set(timerId, arm());
  }
}

/**
 * The isolate of a call is gone: V8 disposed it for exceeding its memory limit (its calls fail, the next run builds
 * a fresh realm), or the node was closed while its code ran (its calls already finished).
 */
function realmLost(/** @type {Realm} */ realm) {
  if (realms.get(realm.sandbox) === realm) realms.delete(realm.sandbox);
  releaseRealm(realm);
  for (const call of [...calls.values()]) {
    if (call.realm === realm) call.finish(`function exceeded its ${call.spec.memoryLimitMb} MB memory limit`);
  }
}

/** Free a realm once, whichever of close, an out-of-memory disposal or a failed boot gets there first. */
function releaseRealm(/** @type {Realm} */ realm) {
  if (realm.released) return;
  realm.released = true;
  if (!realm.isolate.isDisposed) realm.isolate.dispose();
  realm.dispatcher.release();
}

/** Requests from inside the isolate of `sandbox`. The answer is copied back in. */
async function dispatch(/** @type {number} */ sandbox, /** @type {number} */ callId, /** @type {string} */ op, /** @type {unknown[]} */ ...args) {
  const call = calls.get(callId);
  // A call id is only good in its own sandbox: code cannot act on another node's messages by guessing ids.
  if (!call || call.finished || call.realm.sandbox !== sandbox) throw new Error('this function call has already finished');
  switch (op) {
    case 'timer':
      // Each pending timer is a host timer in this process, outside the isolate's memory limit: bound them.
      if (call.timers.size >= MAX_TIMERS) throw new Error(`too many timers pending in one call (at most ${MAX_TIMERS})`);
      return call.startTimer(/** @type {number} */ (args[0]), /** @type {number} */ (args[1]), /** @type {boolean} */ (args[2]));
    case 'untimer':
      clearTimeout(call.timers.get(/** @type {number} */ (args[0])));
      call.timers.delete(/** @type {number} */ (args[0]));
      return call.check();
    case 'return':
      call.returned = true;
      call.value = args[0];
      return call.check();
    case 'done':
      if (args[0]) return call.finish(locate(call.part, /** @type {{message: string, stack: string}} */ (args[0])));
      call.doneCalled = true;
      return call.check();
    case 'fail':
      return call.finish(locate(call.part, /** @type {{message: string, stack: string}} */ (args[0])));
    case 'error':
      // node.error(text, msg): Node-RED hands the message to catch nodes; here the call fails with that text once finished.
      if (args[1]) call.reportedError ??= String(args[0]).slice(0, 4096);
      {
        const tooLarge = oversized(args, call.spec, 'log message');
        if (tooLarge) throw new Error(tooLarge);
      }
      await ask(callId, 'log', ['error', args[0]]);
      return;
    default: {
      const tooLarge = oversized(args, call.spec, REQUEST_WHAT[/** @type {keyof typeof REQUEST_WHAT} */ (op)] ?? op);
      if (tooLarge) throw new Error(tooLarge);
      const value = await ask(callId, op, args);
      return value === undefined ? undefined : new ivm.ExternalCopy(value).copyInto();
    }
  }
}

/** Build a realm: isolate, bootstrap, and the user's code compiled once. Throws an Error naming the line of a syntax error. */
function boot(/** @type {number} */ sandbox, /** @type {Spec} */ spec) {
  const isolate = new ivm.Isolate({
    memoryLimit: spec.memoryLimitMb,
    // Some allocation failures are beyond what V8 can recover from. Without this handler the whole process aborts;
    // with it this isolate's thread is parked for good, so the process is no longer healthy: report and go.
    onCatastrophicError: () => {
      const die = () => process.kill(process.pid, 'SIGKILL');
      setTimeout(die, 1000).unref();
      process.send?.({ t: 'catastrophe', sandbox }, die);
    },
  });
  const dispatcher = new ivm.Reference((/** @type {[number, string, ...unknown[]]} */ ...args) => dispatch(sandbox, ...args));
  try {
    const context = isolate.createContextSync();
    const api = context.evalClosureSync(BOOTSTRAP, [dispatcher, new ivm.ExternalCopy(spec.info).copyInto()], { result: { reference: true } });
    const install = api.getSync('install', { reference: true });
    for (const part of ['func', 'initialize', 'finalize']) {
      const source = spec.code[part];
      if (!source?.trim()) continue;
      let script;
      try {
        // The wrapper's first line is ours: lineOffset -1 makes line numbers those of the user's code.
        script = isolate.compileScriptSync(`(async function (${PARAMS.join(', ')}) {\n${source}\n})`, { filename: part, lineOffset: -1 });
      } catch (error) {
        const message = /** @type {Error} */ (error).message;
        const where = /\[[^\]]*:(\d+):(\d+)\]$/.exec(message);
        const text = message.replace(/\s*\[[^\]]*\]$/, '');
        throw new Error(where ? `${part}: SyntaxError on line ${where[1]}, col ${where[2]}: ${text}` : `${part}: SyntaxError: ${text}`);
      }
      const fn = script.runSync(context, { reference: true });
      install.applySync(undefined, [part, fn.derefInto()]);
    }
    return {
      sandbox,
      isolate,
      dispatcher,
      released: false,
      invoke: api.getSync('invoke', { reference: true }),
      fire: api.getSync('fire', { reference: true }),
      forget: api.getSync('forget', { reference: true }),
    };
  } catch (error) {
    isolate.dispose();
    dispatcher.release();
    throw error;
  }
}

function realmFor(/** @type {number} */ sandbox) {
  let realm = realms.get(sandbox);
  if (realm && !realm.isolate.isDisposed) return realm;
  const spec = specs.get(sandbox);
  if (!spec) throw new Error('function sandbox is not open');
  realm = boot(sandbox, spec);
  realms.set(sandbox, realm);
  return realm;
}

process.on('message', (/** @type {any} */ message) => {
  switch (message.t) {
    case 'open':
      specs.set(message.sandbox, message.spec);
      try {
        realmFor(message.sandbox);
        send({ t: 'opened', sandbox: message.sandbox });
      } catch (error) {
        specs.delete(message.sandbox);
        send({ t: 'opened', sandbox: message.sandbox, error: /** @type {Error} */ (error).message });
      }
      return;
    case 'run': {
      const spec = specs.get(message.sandbox);
      if (!spec) return send({ t: 'result', call: message.call, ok: false, error: 'function sandbox is not open' });
      let realm;
      try {
        realm = realmFor(message.sandbox);
      } catch (error) {
        return send({ t: 'result', call: message.call, ok: false, error: /** @type {Error} */ (error).message });
      }
      const call = new Call(message.call, message.part, realm, spec, message.awaitTimers);
      calls.set(call.id, call);
      void call.enter(realm.invoke, [message.part, call.id, message.msg]);
      return;
    }
    case 'cancel':
      return calls.get(message.call)?.finish('cancelled');
    case 'close': {
      const realm = realms.get(message.sandbox);
      for (const call of [...calls.values()]) if (call.realm === realm) call.finish('function node closed');
      realms.delete(message.sandbox);
      specs.delete(message.sandbox);
      // A call still running in this isolate ends with the disposal; its enter() then finds the realm released.
      if (realm) releaseRealm(realm);
      return;
    }
    case 'reply': {
      const request = requests.get(message.req);
      requests.delete(message.req);
      if (message.ok) request?.resolve(message.value);
      else request?.reject(new Error(message.error));
      return;
    }
  }
});

// The server went away (or closed its last function node): nothing left to do here. Not process.exit(): its exit
// handlers include isolated-vm's, which joins the isolate threads, and an isolate blocked in a call into this thread
// (applySyncPromise: a context read, node.send ...) then waits for ever on a thread that is exiting — the process
// stayed behind, orphaned, after every test run whose server stopped with a function still running. A process with
// no isolate left can exit normally; otherwise it ends at once (it holds nothing that needs saving).
process.on('disconnect', () => {
  if (realms.size === 0 && calls.size === 0) process.exit(0);
  else process.kill(process.pid, 'SIGKILL');
});
