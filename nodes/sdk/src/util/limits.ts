/**
 * Limits on everything the core nodes evaluate in the runtime's own process (JSONata, regular expressions,
 * CSV/YAML/JSON parsing, mustache templates), so that one hostile message fails its own invocation with a clear
 * reason instead of stalling or killing every flow. Read once from the environment when the pack loads.
 */
import { getHeapStatistics } from 'node:v8';
import { NodeInputError } from '../index.ts';

export interface HostLimits {
  /** FLOWCREW_EXPRESSION_TIMEOUT_MS: time one JSONata evaluation or template rendering may take (its own time, not the time it yields to other work). */
  expressionTimeoutMs: number;
  /** FLOWCREW_EXPRESSION_MAX_DEPTH: nested evaluation steps in one JSONata evaluation (recursion ≈ 3 steps per call). */
  expressionMaxDepth: number;
  /** FLOWCREW_EXPRESSION_MAX_MEMORY_MB: heap growth one JSONata evaluation may cause, sampled while it runs. */
  expressionMaxMemoryMb: number;
  /** FLOWCREW_MAX_ITEMS: values (array items, object members) one expression result or parsed document may hold, counting a shared value each time it appears. */
  maxItems: number;
  /** FLOWCREW_MAX_MESSAGE_BYTES (shared with the runtime): longest string an expression builds, a template renders or a parser accepts, in characters. */
  maxStringLength: number;
  /** FLOWCREW_MAX_DEPTH (shared with the runtime): deepest nesting of parsed JSON and YAML and of expression results. */
  maxDepth: number;
  /** FLOWCREW_REGEX_TIMEOUT_MS: time a regular expression the linear-time engine cannot run (lookahead, backreference) may take per use. */
  regexTimeoutMs: number;
  /** FLOWCREW_TEMPLATE_TIMEOUT_MS: time one mustache rendering may take (it cannot let other work in, so it is short). */
  templateTimeoutMs: number;
  /** FLOWCREW_CSV_MAX_COLUMNS: columns a CSV header or column list may have (Excel's own limit by default). */
  csvMaxColumns: number;
  /** FLOWCREW_TEMPLATE_CACHE_ENTRIES: parsed mustache templates kept (message-supplied templates are evicted, least recently used first). */
  templateCacheEntries: number;
}

export const DEFAULT_LIMITS: HostLimits = Object.freeze({
  expressionTimeoutMs: 1000,
  expressionMaxDepth: 5000,
  expressionMaxMemoryMb: 256,
  maxItems: 1_000_000,
  maxStringLength: 16 * 1024 * 1024,
  maxDepth: 128,
  regexTimeoutMs: 100,
  templateTimeoutMs: 100,
  csvMaxColumns: 16_384,
  templateCacheEntries: 1000,
});

const VARIABLES: Record<keyof HostLimits, string> = {
  expressionTimeoutMs: 'FLOWCREW_EXPRESSION_TIMEOUT_MS',
  expressionMaxDepth: 'FLOWCREW_EXPRESSION_MAX_DEPTH',
  expressionMaxMemoryMb: 'FLOWCREW_EXPRESSION_MAX_MEMORY_MB',
  maxItems: 'FLOWCREW_MAX_ITEMS',
  maxStringLength: 'FLOWCREW_MAX_MESSAGE_BYTES',
  maxDepth: 'FLOWCREW_MAX_DEPTH',
  regexTimeoutMs: 'FLOWCREW_REGEX_TIMEOUT_MS',
  templateTimeoutMs: 'FLOWCREW_TEMPLATE_TIMEOUT_MS',
  csvMaxColumns: 'FLOWCREW_CSV_MAX_COLUMNS',
  templateCacheEntries: 'FLOWCREW_TEMPLATE_CACHE_ENTRIES',
};

/** The limits from environment variables (see HostLimits), defaults for those unset. A bad value is an error. */
export function readLimits(env: Record<string, string | undefined> = process.env): HostLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(VARIABLES) as Array<keyof HostLimits>) {
    const name = VARIABLES[key];
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number (got "${raw}")`);
    limits[key] = value;
  }
  return Object.freeze(limits);
}

/** The process-wide limits, read once when the pack loads. */
export const hostLimits: HostLimits = readLimits();

/** A limit was exceeded: the message fails (not worth retrying: the same message would exceed it again). */
export class LimitExceededError extends NodeInputError {
  readonly code = 'LIMIT_EXCEEDED';
  constructor(
    message: string,
    readonly limit: { name: string; value: number; variable?: string },
  ) {
    super(limit.variable ? `${message} (${limit.variable})` : message, { limit: limit.name, value: limit.value });
    this.name = 'LimitExceededError';
  }
}

export function limitVariable(key: keyof HostLimits): string {
  return VARIABLES[key];
}

/** Throw when `text` is longer than the string limit. `what` names the thing, e.g. "The CSV input". */
export function checkStringLength(length: number, what: string, limits: HostLimits): void {
  if (length > limits.maxStringLength) {
    throw new LimitExceededError(`${what} is ${length} characters long, more than the limit of ${limits.maxStringLength}`, {
      name: 'maxStringLength',
      value: limits.maxStringLength,
      variable: VARIABLES.maxStringLength,
    });
  }
}

/** How long an evaluation runs before it lets other work in (ms): short enough for other flows' latency. */
const SLICE_MS = 5;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Lets other work in every few milliseconds during a long synchronous loop that is allowed to take its time (a
 * large CSV document): `check()` returns a promise to await when the current slice is over.
 */
export class TimeSlicer {
  private sliceStart = performance.now();

  check(): Promise<void> | undefined {
    if (performance.now() - this.sliceStart < SLICE_MS) return undefined;
    return yieldToEventLoop().then(() => {
      this.sliceStart = performance.now();
    });
  }
}

/**
 * The time (and heap growth) one evaluation may use. The evaluation calls `check()` often; every few
 * milliseconds it gets a promise to await, which lets timers and I/O of other flows run, and the time spent
 * waiting there does not count. Over the limit, `check()` throws (and remembers the error: some evaluators wrap
 * errors thrown inside them, the caller rethrows `failure`).
 */
export class EvaluationBudget {
  failure: LimitExceededError | undefined;
  private used = 0;
  private sliceStart = performance.now();
  private heapBaseline = -1;

  private readonly timeoutMs: number;
  private readonly maxMemoryBytes: number;

  constructor(
    private readonly what: string,
    private readonly timeoutKey: 'expressionTimeoutMs' | 'templateTimeoutMs',
    limits: HostLimits,
  ) {
    this.timeoutMs = limits[timeoutKey];
    this.maxMemoryBytes = limits.expressionMaxMemoryMb * 1024 * 1024;
  }

  /** Throws over the limit; returns a promise to await when it is time to let other work in. */
  check(): Promise<void> | undefined {
    const now = performance.now();
    const slice = now - this.sliceStart;
    if (this.used + slice > this.timeoutMs) {
      throw this.fail(`${this.what} exceeded its time limit of ${this.timeoutMs} ms`, this.timeoutKey, this.timeoutMs);
    }
    if (slice < SLICE_MS) return undefined;
    this.used += slice;
    this.checkMemory();
    return yieldToEventLoop().then(() => {
      this.sliceStart = performance.now();
    });
  }

  /** Synchronous variant for code that cannot await (template rendering): throws over the limit, never yields. */
  checkSync(): void {
    if (this.used + (performance.now() - this.sliceStart) > this.timeoutMs) {
      throw this.fail(`${this.what} exceeded its time limit of ${this.timeoutMs} ms`, this.timeoutKey, this.timeoutMs);
    }
  }

  /** Record and return a limit error, so that the caller finds it even if an evaluator wrapped it. */
  fail(message: string, key: keyof HostLimits, value: number): LimitExceededError {
    this.failure ??= new LimitExceededError(message, { name: key, value, variable: VARIABLES[key] });
    return this.failure;
  }

  /** Heap growth since the evaluation's first slice ended (short evaluations never pay for the sample). */
  private checkMemory(): void {
    const heap = getHeapStatistics().used_heap_size;
    if (this.heapBaseline < 0) {
      this.heapBaseline = heap;
      return;
    }
    if (heap - this.heapBaseline > this.maxMemoryBytes) {
      const mb = Math.round(this.maxMemoryBytes / 1024 / 1024);
      throw this.fail(`${this.what} exceeded its memory limit of ${mb} MB`, 'expressionMaxMemoryMb', mb);
    }
  }
}
