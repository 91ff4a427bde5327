/**
 * The function node's sandbox, server side. User code runs in isolated-vm isolates inside separate processes
 * (function-sandbox-process.js), one per flow within a bound (function-sandbox-pool.ts): an isolate has its own heap,
 * memory limit and time limit, and the process boundary means even an out-of-memory failure V8 cannot recover from
 * never takes the server down, nor another flow's functions.
 * Only copied data crosses: messages go in and out by structured clone, and the code reaches the server only through
 * the requests handled here (send, log, status, context, env).
 */
import type { ContextStore, EnvReader, NodeStatus } from '@flowcrew/sdk';
import { getContextValue, parseContextKey, setContextValue } from '@flowcrew/sdk/util';
import { poolOptionsFromEnv, SandboxPool, type FromProcess, type PendingCall, type PooledSandbox, type PoolOptions, type SandboxWorker } from './function-sandbox-pool.ts';

export type FunctionPart = 'func' | 'initialize' | 'finalize';
type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface SandboxOptions {
  code: Partial<Record<FunctionPart, string>>;
  memoryLimitMb: number;
  /** Wall-clock limit for one call, including its awaits and timers. */
  timeoutMs: number;
  info: { id: string; name: string; flowId: string; outputs: number };
}

/** What one call of user code can reach on the server. */
export interface CallHost {
  send(output: unknown): void;
  log(level: LogLevel, message: string): void;
  status(status: NodeStatus): void;
  context: { node: ContextStore; flow: ContextStore; global: ContextStore; env?: EnvReader };
  signal?: AbortSignal;
}

export interface CallOptions {
  /** Main code: the call lasts until its timers have run or node.done() is called. Initialize/finalize: until it returns. */
  awaitTimers: boolean;
}

/** The sandbox process enforces each call's time limit; this extra margin only catches a process that stopped answering. */
const UNRESPONSIVE_MARGIN_MS = 5000;

type RequestMessage = Extract<FromProcess, { t: 'request' }>;

/** Answer a request from user code: it is running (blocked) in the process until the reply arrives. */
function answer(worker: SandboxWorker<CallHost>, message: RequestMessage): void {
  const pending = worker.calls.get(message.call);
  try {
    if (!pending) throw new Error('this function call has already finished');
    const value = perform(pending.host, message.op, message.args);
    worker.send({ t: 'reply', req: message.req, ok: true, value });
  } catch (error) {
    worker.send({ t: 'reply', req: message.req, ok: false, error: (error as Error).message });
  }
}

let pool: SandboxPool<CallHost> | undefined;

/** The process pool, configured from the environment on first use (FLOWCREW_FUNCTION_*). */
function sandboxPool(): SandboxPool<CallHost> {
  pool ??= new SandboxPool<CallHost>(poolOptionsFromEnv(), { request: answer });
  return pool;
}

/** Change the pool's settings (tests, embedding); applies to processes started afterwards. */
export function configureSandboxPool(options: Partial<PoolOptions>): void {
  sandboxPool().configure(options);
}

/** The live sandbox processes: pid, the flows assigned to each, calls in flight. */
export function sandboxProcesses(): ReturnType<SandboxPool<CallHost>['processes']> {
  return pool?.processes() ?? [];
}

let nextCall = 1;

function runIn(worker: SandboxWorker<CallHost>, sandbox: FunctionSandbox, part: FunctionPart, msg: unknown, host: CallHost, options: CallOptions): Promise<unknown> {
  const call = nextCall++;
  return new Promise<unknown>((resolve, reject) => {
    worker.busy();
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      worker.done();
      worker.calls.delete(call);
      clearTimeout(guard);
      host.signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const pending: PendingCall<CallHost> = {
      sandbox,
      host,
      resolve: (value) => settle() && resolve(value),
      reject: (error) => settle() && reject(error),
    };
    const onAbort = () => {
      worker.send({ t: 'cancel', call });
      pending.reject(host.signal?.reason instanceof Error ? host.signal.reason : new Error('function cancelled'));
    };
    const guard = setTimeout(() => {
      // Only this flow's process: other flows' calls run elsewhere (unless the pool is at its bound and shares).
      pending.reject(new Error(`function timed out after ${sandbox.options.timeoutMs} ms (the sandbox process stopped answering and is restarted)`));
      worker.kill();
    }, sandbox.options.timeoutMs + UNRESPONSIVE_MARGIN_MS);
    worker.calls.set(call, pending);
    if (host.signal?.aborted) return onAbort();
    host.signal?.addEventListener('abort', onAbort, { once: true });
    worker.send({ t: 'run', sandbox: sandbox.id, call, part, msg, awaitTimers: options.awaitTimers }, (error) => error && pending.reject(error));
  });
}

const STATUS_CHARS = 1024;

/** Carry out a request from user code. Context keys may be Node-RED paths ('user.name', '#:(store)::key'). */
function perform(host: CallHost, op: string, args: unknown[]): unknown {
  const scope = args[0] as 'node' | 'flow' | 'global';
  switch (op) {
    case 'send':
      return host.send(args[0]);
    case 'log':
      return host.log(args[0] as LogLevel, String(args[1]));
    case 'status': {
      // Status text is shown on the canvas: a line, not a document.
      const status = args[0] as NodeStatus;
      return host.status(typeof status.text === 'string' && status.text.length > STATUS_CHARS ? { ...status, text: `${status.text.slice(0, STATUS_CHARS)}…` } : status);
    }
    case 'ctx.get':
      return getContextValue(host.context[scope], parseContextKey(String(args[1])));
    case 'ctx.set':
      return setContextValue(host.context[scope], parseContextKey(String(args[1])), args[2]);
    case 'ctx.keys':
      return host.context[scope].keys();
    case 'env':
      // Unset reads undefined, as Node-RED's env.get(); typed as Node-RED's (a num variable is a number); only the
      // flow's resolved variables, never the host's.
      return host.context.env?.value(String(args[0]));
    default:
      throw new Error(`unknown sandbox request "${op}"`);
  }
}

let nextSandbox = 1;

/** One function node's code, compiled in its flow's sandbox process. */
export class FunctionSandbox implements PooledSandbox {
  readonly id = nextSandbox++;
  readonly group: string;
  readonly spec: SandboxOptions;
  private closed = false;

  private constructor(readonly options: SandboxOptions) {
    this.group = options.info.flowId;
    this.spec = options;
  }

  /** Compile the code in the sandbox; rejects with an Error naming the line of a syntax error. */
  static async create(options: SandboxOptions): Promise<FunctionSandbox> {
    const sandbox = new FunctionSandbox(options);
    await sandboxPool().ensureOpen(sandbox);
    return sandbox;
  }

  has(part: FunctionPart): boolean {
    return Boolean(this.options.code[part]?.trim());
  }

  /** Run one part of the user code; resolves with what it returned (a copy). */
  async run(part: FunctionPart, msg: unknown, host: CallHost, options: CallOptions): Promise<unknown> {
    if (this.closed) throw new Error('function node is closed');
    const worker = await sandboxPool().ensureOpen(this);
    return runIn(worker, this, part, msg, host, options);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    pool?.close(this);
  }
}
