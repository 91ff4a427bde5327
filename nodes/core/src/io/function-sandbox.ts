/**
 * The function node's sandbox, server side. User code runs in isolated-vm isolates inside a separate process
 * (function-sandbox-process.js), shared by all function nodes: an isolate has its own heap, memory limit and time limit,
 * and the process boundary means even an out-of-memory failure V8 cannot recover from never takes the server down.
 * Only copied data crosses: messages go in and out by structured clone, and the code reaches the server only through
 * the requests handled here (send, log, status, context).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ContextStore, NodeStatus } from '@flowcrew/sdk';
import { getContextValue, parseContextKey, setContextValue } from '../shared/property.ts';

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
  context: { node: ContextStore; flow: ContextStore; global: ContextStore };
  signal?: AbortSignal;
}

export interface CallOptions {
  /** Main code: the call lasts until its timers have run or node.done() is called. Initialize/finalize: until it returns. */
  awaitTimers: boolean;
}

const PROCESS_SCRIPT = fileURLToPath(new URL('./function-sandbox-process.js', import.meta.url));
/** The sandbox process enforces each call's time limit; this extra margin only catches a process that stopped answering. */
const UNRESPONSIVE_MARGIN_MS = 5000;

interface PendingCall {
  sandbox: FunctionSandbox;
  host: CallHost;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

type FromProcess =
  | { t: 'opened'; sandbox: number; error?: string }
  | { t: 'result'; call: number; ok: boolean; value?: unknown; error?: string }
  | { t: 'request'; req: number; call: number; op: string; args: unknown[] }
  | { t: 'catastrophe'; sandbox: number };

/** One sandbox process and what is in flight in it. */
class Connection {
  readonly opening = new Map<number, { resolve(): void; reject(error: Error): void }>();
  readonly calls = new Map<number, PendingCall>();
  /** Sandboxes whose code is compiled (or being compiled) in this process. */
  readonly opened = new Map<FunctionSandbox, Promise<void>>();
  /** The sandbox whose isolate hit an unrecoverable out-of-memory error, if that is why the process died. */
  ranOutOfMemory: number | undefined;

  private waiting = 0;

  constructor(readonly child: ChildProcess) {
    this.setRef(false);
  }

  /** While the server waits on this process, the process keeps the server's event loop alive; an idle one must not. */
  busy(): void {
    if (this.waiting++ === 0) this.setRef(true);
  }

  done(): void {
    if (--this.waiting === 0) this.setRef(false);
  }

  private setRef(ref: boolean): void {
    const channel = (this.child as unknown as { channel?: { ref(): void; unref(): void } }).channel;
    if (ref) {
      this.child.ref();
      channel?.ref();
    } else {
      this.child.unref();
      channel?.unref();
    }
  }
}

/** The sandbox process: started on first use, stopped when the last function node closes, restarted after a crash. */
class SandboxProcess {
  private current: Connection | undefined;
  private readonly open = new Set<FunctionSandbox>();
  private nextCall = 1;

  async ensureOpen(sandbox: FunctionSandbox): Promise<Connection> {
    const connection = this.connect();
    this.open.add(sandbox);
    let opened = connection.opened.get(sandbox);
    if (!opened) {
      // Shared by concurrent first messages, so the code is compiled once per process.
      opened = this.compile(connection, sandbox);
      connection.opened.set(sandbox, opened);
    }
    try {
      await opened;
    } catch (error) {
      connection.opened.delete(sandbox);
      this.close(sandbox);
      throw error;
    }
    return connection;
  }

  private async compile(connection: Connection, sandbox: FunctionSandbox): Promise<void> {
    connection.busy();
    try {
      await new Promise<void>((resolve, reject) => {
        connection.opening.set(sandbox.id, { resolve, reject });
        connection.child.send({ t: 'open', sandbox: sandbox.id, spec: sandbox.options });
      });
    } finally {
      connection.done();
    }
  }

  run(sandbox: FunctionSandbox, connection: Connection, part: FunctionPart, msg: unknown, host: CallHost, options: CallOptions): Promise<unknown> {
    const call = this.nextCall++;
    const { child } = connection;
    return new Promise<unknown>((resolve, reject) => {
      connection.busy();
      let settled = false;
      const settle = () => {
        if (settled) return;
        settled = true;
        connection.done();
        connection.calls.delete(call);
        clearTimeout(guard);
        host.signal?.removeEventListener('abort', onAbort);
      };
      const pending: PendingCall = {
        sandbox,
        host,
        resolve: (value) => (settle(), resolve(value)),
        reject: (error) => (settle(), reject(error)),
      };
      const onAbort = () => {
        if (child.connected) child.send({ t: 'cancel', call });
        pending.reject(host.signal?.reason instanceof Error ? host.signal.reason : new Error('function cancelled'));
      };
      const guard = setTimeout(() => {
        pending.reject(new Error(`function timed out after ${sandbox.options.timeoutMs} ms (the sandbox process stopped answering and is restarted)`));
        child.kill('SIGKILL');
      }, sandbox.options.timeoutMs + UNRESPONSIVE_MARGIN_MS);
      connection.calls.set(call, pending);
      if (host.signal?.aborted) return onAbort();
      host.signal?.addEventListener('abort', onAbort, { once: true });
      child.send({ t: 'run', sandbox: sandbox.id, call, part, msg, awaitTimers: options.awaitTimers }, (error) => error && pending.reject(error));
    });
  }

  close(sandbox: FunctionSandbox): void {
    this.open.delete(sandbox);
    const connection = this.current;
    if (!connection) return;
    for (const pending of [...connection.calls.values()]) if (pending.sandbox === sandbox) pending.reject(new Error('function node closed'));
    connection.opened.delete(sandbox);
    if (!connection.child.connected) return;
    connection.child.send({ t: 'close', sandbox: sandbox.id });
    // Nothing left to run: let the process go (it exits when the channel closes).
    if (this.open.size === 0) {
      this.current = undefined;
      connection.child.disconnect();
    }
  }

  private connect(): Connection {
    if (this.current?.child.connected) return this.current;
    // --no-node-snapshot: isolated-vm needs it on Node 20+ (V8's shared read-only heap clashes with its isolates).
    const child = fork(PROCESS_SCRIPT, [], { execArgv: ['--no-node-snapshot'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const connection = new Connection(child);
    child.on('message', (message: FromProcess) => this.receive(connection, message));
    child.on('exit', (code, signal) => this.exited(connection, code, signal));
    child.on('error', () => this.exited(connection, null, null));
    this.current = connection;
    return connection;
  }

  private receive(connection: Connection, message: FromProcess): void {
    const { child } = connection;
    switch (message.t) {
      case 'opened': {
        const waiting = connection.opening.get(message.sandbox);
        connection.opening.delete(message.sandbox);
        if (message.error) waiting?.reject(new Error(message.error));
        else waiting?.resolve();
        return;
      }
      case 'result': {
        const pending = connection.calls.get(message.call);
        if (message.ok) pending?.resolve(message.value);
        else pending?.reject(new Error(message.error));
        return;
      }
      case 'request': {
        const pending = connection.calls.get(message.call);
        try {
          if (!pending) throw new Error('this function call has already finished');
          const value = perform(pending.host, message.op, message.args);
          if (child.connected) child.send({ t: 'reply', req: message.req, ok: true, value });
        } catch (error) {
          if (child.connected) child.send({ t: 'reply', req: message.req, ok: false, error: (error as Error).message });
        }
        return;
      }
      case 'catastrophe':
        connection.ranOutOfMemory = message.sandbox;
        return;
    }
  }

  /** A process ended: whatever was in flight in it fails; sandboxes reopen in a new process on their next message. */
  private exited(connection: Connection, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.current === connection) this.current = undefined;
    const culprit = connection.ranOutOfMemory;
    const reason = `the function sandbox process exited unexpectedly (${signal ?? `code ${code}`})`;
    for (const waiting of connection.opening.values()) waiting.reject(new Error(reason));
    connection.opening.clear();
    for (const pending of [...connection.calls.values()]) {
      const { memoryLimitMb } = pending.sandbox.options;
      if (pending.sandbox.id === culprit) pending.reject(new Error(`function exceeded its ${memoryLimitMb} MB memory limit`));
      else if (culprit !== undefined) pending.reject(new Error('function interrupted: another function node ran out of memory and the sandbox process was restarted'));
      else pending.reject(new Error(reason));
    }
  }
}

/** Carry out a request from user code. Context keys may be Node-RED paths ('user.name', '#:(store)::key'). */
function perform(host: CallHost, op: string, args: unknown[]): unknown {
  const scope = args[0] as 'node' | 'flow' | 'global';
  switch (op) {
    case 'send':
      return host.send(args[0]);
    case 'log':
      return host.log(args[0] as LogLevel, String(args[1]));
    case 'status':
      return host.status(args[0] as NodeStatus);
    case 'ctx.get':
      return getContextValue(host.context[scope], parseContextKey(String(args[1])));
    case 'ctx.set':
      return setContextValue(host.context[scope], parseContextKey(String(args[1])), args[2]);
    case 'ctx.keys':
      return host.context[scope].keys();
    default:
      throw new Error(`unknown sandbox request "${op}"`);
  }
}

const processHost = new SandboxProcess();
let nextSandbox = 1;

/** One function node's code in the sandbox process. */
export class FunctionSandbox {
  readonly id = nextSandbox++;
  private closed = false;

  private constructor(readonly options: SandboxOptions) {}

  /** Compile the code in the sandbox; rejects with an Error naming the line of a syntax error. */
  static async create(options: SandboxOptions): Promise<FunctionSandbox> {
    const sandbox = new FunctionSandbox(options);
    await processHost.ensureOpen(sandbox);
    return sandbox;
  }

  has(part: FunctionPart): boolean {
    return Boolean(this.options.code[part]?.trim());
  }

  /** Run one part of the user code; resolves with what it returned (a copy). */
  async run(part: FunctionPart, msg: unknown, host: CallHost, options: CallOptions): Promise<unknown> {
    if (this.closed) throw new Error('function node is closed');
    const connection = await processHost.ensureOpen(this);
    return processHost.run(this, connection, part, msg, host, options);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    processHost.close(this);
  }
}
