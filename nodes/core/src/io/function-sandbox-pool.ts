/**
 * The pool of function sandbox processes (function-sandbox-process.js). Isolation is per flow: each flow's function
 * nodes run in a process of their own, so a crash, an out-of-memory abort, a kill or a hung process fails only that
 * flow's calls in flight. The number of processes is bounded; past the bound a new flow shares the process with the
 * fewest flows (isolation then degrades gracefully instead of refusing work). A process with nothing in flight for
 * `idleMs` is stopped, and its flows get a process again (their code recompiled) on their next message.
 *
 * Processes start with a scrubbed environment (no secret of the runtime's) and with the V8 flags that remove the
 * memory an isolate's memoryLimit does not count (SharedArrayBuffer, Atomics, WebAssembly, resizable ArrayBuffers).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface PoolOptions {
  /** Most sandbox processes at once. */
  maxProcesses: number;
  /** A process with no call in flight for this long is stopped. */
  idleMs: number;
  /** Largest message (result, sent message, log line, context value) that may leave a sandbox, in bytes. */
  maxMessageBytes: number;
}

/** What a sandbox (one function node's code) tells the pool about itself. */
export interface PooledSandbox {
  readonly id: number;
  /** Sandboxes of one group (a flow) share a process; different groups get different processes while the bound allows. */
  readonly group: string;
  /** Sent to the process to compile the code (code, limits, node info). */
  readonly spec: { readonly timeoutMs: number; readonly memoryLimitMb: number };
}

export type FromProcess =
  | { t: 'opened'; sandbox: number; error?: string }
  | { t: 'result'; call: number; ok: boolean; value?: unknown; error?: string }
  | { t: 'request'; req: number; call: number; op: string; args: unknown[] }
  | { t: 'catastrophe'; sandbox: number };

export interface PendingCall<H = unknown> {
  sandbox: PooledSandbox;
  /** What the call's code can reach on the server (its requests are answered there). */
  host: H;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

const PROCESS_SCRIPT = fileURLToPath(new URL('./function-sandbox-process.js', import.meta.url));

/**
 * --no-node-snapshot: isolated-vm needs it on Node 20+ (V8's shared read-only heap clashes with its isolates).
 * The rest take out of every isolate what its memoryLimit does not count, and shared memory (Atomics.wait blocks).
 */
export const SANDBOX_V8_FLAGS = ['--no-node-snapshot', '--no-harmony-sharedarraybuffer', '--no-harmony-atomics', '--no-expose-wasm', '--no-harmony-rab-gsab'];

/** The only variables a sandbox process inherits: time zone, locale and ICU data, which user code's Date and Intl see. */
const ENV_ALLOWED = ['TZ', 'LANG', 'LC_ALL', 'LC_CTYPE', 'LC_TIME', 'LC_NUMERIC', 'NODE_ICU_DATA'];

export function sandboxEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const scrubbed: NodeJS.ProcessEnv = {};
  for (const name of ENV_ALLOWED) if (env[name] !== undefined) scrubbed[name] = env[name];
  return scrubbed;
}

/** The runtime's limit on one node message, which function results and sent messages obey too. */
const MESSAGE_LIMIT_SETTING = 'FLOWCREW_MAX_MESSAGE_BYTES';

/** After being told to go, a process that has not exited within this long is killed. */
const EXIT_GRACE_MS = 2000;

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${name} must be a positive number (got "${value}")`);
  return parsed;
}

/**
 * Defaults: twice the cores, at least 4 and at most 8 processes (4 on a 2-core machine: each idle process holds
 * about 46 MB); stopped after 60 s idle; messages up to the runtime's node message limit (FLOWCREW_MAX_MESSAGE_BYTES,
 * 16 MB), checked in the sandbox so an oversized one is never copied into the server.
 */
export function poolOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): PoolOptions {
  const processes = positiveNumber('FLOWCREW_FUNCTION_PROCESSES', env.FLOWCREW_FUNCTION_PROCESSES, Math.min(8, Math.max(4, 2 * availableParallelism())));
  if (!Number.isInteger(processes)) throw new Error(`FLOWCREW_FUNCTION_PROCESSES must be a whole number (got "${env.FLOWCREW_FUNCTION_PROCESSES}")`);
  return {
    maxProcesses: processes,
    idleMs: positiveNumber('FLOWCREW_FUNCTION_IDLE_SECONDS', env.FLOWCREW_FUNCTION_IDLE_SECONDS, 60) * 1000,
    maxMessageBytes: Math.round(positiveNumber(MESSAGE_LIMIT_SETTING, env[MESSAGE_LIMIT_SETTING], 16 * 1048576)),
  };
}

/** One sandbox process and what is in flight in it. */
export class SandboxWorker<H = unknown> {
  readonly opening = new Map<number, { resolve(): void; reject(error: Error): void }>();
  readonly calls = new Map<number, PendingCall<H>>();
  /** Sandboxes whose code is compiled (or being compiled) in this process. */
  readonly opened = new Map<PooledSandbox, Promise<void>>();
  /** Groups (flows) assigned to this process. */
  readonly groups = new Set<string>();
  /** The sandbox whose isolate hit an unrecoverable out-of-memory error, if that is why the process died. */
  ranOutOfMemory: number | undefined;
  /** Retired (idle, empty or exited): no new work goes here. */
  retired = false;

  private waiting = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly child: ChildProcess,
    private readonly onIdle: (worker: SandboxWorker<H>) => void,
    private readonly idleMs: number,
  ) {
    this.setRef(false);
    this.armIdle();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Calls and compilations in flight. */
  get inFlight(): number {
    return this.waiting;
  }

  /** While the server waits on this process, the process keeps the server's event loop alive; an idle one must not. */
  busy(): void {
    if (this.waiting++ === 0) {
      this.setRef(true);
      clearTimeout(this.idleTimer);
    }
  }

  done(): void {
    if (--this.waiting === 0) {
      this.setRef(false);
      this.armIdle();
    }
  }

  send(message: object, callback?: (error: Error | null) => void): boolean {
    if (!this.child.connected) {
      callback?.(new Error('the function sandbox process is gone'));
      return false;
    }
    return this.child.send(message, callback);
  }

  /** Let the process go: it exits when its channel closes; one that does not is killed. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    clearTimeout(this.idleTimer);
    if (this.child.connected) this.child.disconnect();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      setTimeout(() => this.kill(), EXIT_GRACE_MS).unref();
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    if (this.retired) return;
    this.idleTimer = setTimeout(() => this.waiting === 0 && this.onIdle(this), this.idleMs);
    this.idleTimer.unref();
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

export interface PoolHandlers<H> {
  /** A process asks something on behalf of a call (send, log, status, context). */
  request(worker: SandboxWorker<H>, message: Extract<FromProcess, { t: 'request' }>): void;
}

export class SandboxPool<H> {
  private readonly workers = new Set<SandboxWorker<H>>();
  private readonly byGroup = new Map<string, SandboxWorker<H>>();
  /** Open sandboxes by group: a group keeps its process while it has any. */
  private readonly open = new Map<string, Set<PooledSandbox>>();

  constructor(
    private options: PoolOptions,
    private readonly handlers: PoolHandlers<H>,
  ) {}

  configure(options: Partial<PoolOptions>): void {
    this.options = { ...this.options, ...options };
  }

  get maxMessageBytes(): number {
    return this.options.maxMessageBytes;
  }

  /** The live processes, for tests and diagnostics. */
  processes(): Array<{ pid: number | undefined; groups: string[]; inFlight: number }> {
    return [...this.workers].map((w) => ({ pid: w.pid, groups: [...w.groups], inFlight: w.inFlight }));
  }

  /** The process of a sandbox's group, with the sandbox's code compiled in it. */
  async ensureOpen(sandbox: PooledSandbox): Promise<SandboxWorker<H>> {
    let members = this.open.get(sandbox.group);
    if (!members) this.open.set(sandbox.group, (members = new Set()));
    members.add(sandbox);
    const worker = this.workerFor(sandbox.group);
    let opened = worker.opened.get(sandbox);
    if (!opened) {
      // Shared by concurrent first messages, so the code is compiled once per process.
      opened = this.compile(worker, sandbox);
      worker.opened.set(sandbox, opened);
    }
    try {
      await opened;
    } catch (error) {
      worker.opened.delete(sandbox);
      this.close(sandbox);
      throw error;
    }
    return worker;
  }

  private async compile(worker: SandboxWorker<H>, sandbox: PooledSandbox): Promise<void> {
    worker.busy();
    try {
      await new Promise<void>((resolve, reject) => {
        worker.opening.set(sandbox.id, { resolve, reject });
        worker.send({ t: 'open', sandbox: sandbox.id, spec: { ...sandbox.spec, maxMessageBytes: this.options.maxMessageBytes, maxMessageSetting: MESSAGE_LIMIT_SETTING } }, (error) => {
          if (error) reject(error);
        });
      });
    } finally {
      worker.opening.delete(sandbox.id);
      worker.done();
    }
  }

  /** A sandbox closed: fail its calls in flight, free its code in the process, and let an empty process go. */
  close(sandbox: PooledSandbox): void {
    const members = this.open.get(sandbox.group);
    members?.delete(sandbox);
    if (members?.size === 0) this.open.delete(sandbox.group);
    const worker = this.byGroup.get(sandbox.group);
    for (const w of this.workers) {
      for (const pending of [...w.calls.values()]) if (pending.sandbox === sandbox) pending.reject(new Error('function node closed'));
      if (w.opened.delete(sandbox)) w.send({ t: 'close', sandbox: sandbox.id });
    }
    if (worker && !this.open.has(sandbox.group)) {
      this.byGroup.delete(sandbox.group);
      worker.groups.delete(sandbox.group);
      if (worker.groups.size === 0) this.retire(worker);
    }
  }

  /** Stop every process (tests; the runtime's processes otherwise go when their nodes close). */
  shutdown(): void {
    for (const worker of [...this.workers]) this.retire(worker);
  }

  private workerFor(group: string): SandboxWorker<H> {
    const assigned = this.byGroup.get(group);
    if (assigned && !assigned.retired && assigned.child.connected) return assigned;
    if (assigned) this.unassign(assigned, group);
    let worker: SandboxWorker<H>;
    if (this.workers.size < this.options.maxProcesses) worker = this.spawn();
    else {
      // At the bound: share the process with the fewest flows, then the least busy.
      worker = [...this.workers].sort((a, b) => a.groups.size - b.groups.size || a.inFlight - b.inFlight)[0]!;
    }
    worker.groups.add(group);
    this.byGroup.set(group, worker);
    return worker;
  }

  private unassign(worker: SandboxWorker<H>, group: string): void {
    worker.groups.delete(group);
    if (this.byGroup.get(group) === worker) this.byGroup.delete(group);
  }

  private spawn(): SandboxWorker<H> {
    const child = fork(PROCESS_SCRIPT, [], {
      execArgv: SANDBOX_V8_FLAGS,
      env: sandboxEnv(),
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new SandboxWorker<H>(child, (idle) => this.retire(idle), this.options.idleMs);
    child.on('message', (message: FromProcess) => this.receive(worker, message));
    child.on('exit', (code, signal) => this.exited(worker, code, signal));
    child.on('error', () => this.exited(worker, null, null));
    this.workers.add(worker);
    return worker;
  }

  /** Take a process out of the pool; its groups get a process again on their next message. */
  private retire(worker: SandboxWorker<H>): void {
    this.workers.delete(worker);
    for (const group of worker.groups) if (this.byGroup.get(group) === worker) this.byGroup.delete(group);
    worker.groups.clear();
    worker.opened.clear();
    worker.retire();
  }

  private receive(worker: SandboxWorker<H>, message: FromProcess): void {
    switch (message.t) {
      case 'opened': {
        const waiting = worker.opening.get(message.sandbox);
        if (message.error) waiting?.reject(new Error(message.error));
        else waiting?.resolve();
        return;
      }
      case 'result': {
        const pending = worker.calls.get(message.call);
        if (message.ok) pending?.resolve(message.value);
        else pending?.reject(new Error(message.error));
        return;
      }
      case 'request':
        return this.handlers.request(worker, message);
      case 'catastrophe':
        worker.ranOutOfMemory = message.sandbox;
        return;
    }
  }

  /** A process ended: whatever was in flight in it fails; its sandboxes reopen in a new process on their next message. */
  private exited(worker: SandboxWorker<H>, code: number | null, signal: NodeJS.Signals | null): void {
    const expected = worker.retired;
    this.retire(worker);
    const culprit = worker.ranOutOfMemory;
    const reason =
      code === 78
        ? 'the function sandbox process refused to start: it could not remove SharedArrayBuffer, Atomics and WebAssembly'
        : `the function sandbox process exited ${expected ? '' : 'unexpectedly '}(${signal ?? `code ${code}`})`;
    for (const waiting of [...worker.opening.values()]) waiting.reject(new Error(reason));
    worker.opening.clear();
    for (const pending of [...worker.calls.values()]) {
      const { memoryLimitMb } = pending.sandbox.spec;
      if (pending.sandbox.id === culprit) pending.reject(new Error(`function exceeded its ${memoryLimitMb} MB memory limit`));
      else if (culprit !== undefined) pending.reject(new Error('function interrupted: another function node sharing its sandbox process ran out of memory'));
      else pending.reject(new Error(reason));
    }
  }
}
