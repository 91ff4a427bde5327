/**
 * Time, depth, size and memory limits for JSONata evaluations, through JSONata's own mechanisms: its evaluation
 * hook `__evaluate_exit` (the one its test suite uses for time boxes), its `stack` depth guard and its
 * `RegexEngine` option. Every finished step checks depth and the time budget (and every few ms yields to other
 * flows), and the size of what it built, counting shared values once per place they appear, so exponential
 * "billion laughs" values are refused while they are being built. Built-ins that can allocate or loop without
 * taking another step are replaced by bounded equivalents with the same results.
 */
import jsonata from 'jsonata';
import { EvaluationBudget, LimitExceededError, limitVariable, type HostLimits } from './limits.ts';
import { jsonataRegexEngine } from './safe-regex.ts';
import { checkDepth, SizeMeter } from './value-size.ts';

const EXIT = Symbol.for('jsonata.__evaluate_exit');
const STATE = Symbol('flowcrew.jsonata.evaluation');

/** What JSONata passes as `this` to a built-in, and the parts of its environment used here. */
interface Focus {
  environment: Environment;
  createSequence(...items: unknown[]): unknown[];
}
interface Environment {
  base: { depth: number; lookup(name: string): unknown; [STATE]?: Evaluation };
}
interface AstNode {
  type: string;
  value?: unknown;
  group?: unknown;
}
interface JsonataFunction {
  implementation: (this: Focus, ...args: any[]) => any;
}
type JsonataError = { code: string; stack?: string; index?: number; value?: unknown };

/** The state of one evaluation: its budget, its size meter and the limits it runs under. */
class Evaluation {
  readonly budget: EvaluationBudget;
  /** Steps finished: the clock is read every few steps. */
  steps = 0;
  readonly meter: SizeMeter;
  constructor(readonly limits: HostLimits) {
    this.budget = new EvaluationBudget('JSONata expression', 'expressionTimeoutMs', limits);
    this.meter = new SizeMeter(limits, "A JSONata expression's value");
  }

  /** Record a size or depth error the meter threw, so that it survives JSONata wrapping it (e.g. in $eval). */
  measure(value: unknown): ReturnType<SizeMeter['measure']> {
    try {
      return this.meter.measure(value);
    } catch (error) {
      if (error instanceof LimitExceededError) this.budget.failure ??= error;
      throw error;
    }
  }

  fail(message: string, key: keyof HostLimits): LimitExceededError {
    return this.budget.fail(message, key, this.limits[key]);
  }
}

/**
 * The binding that hands an evaluation its state: JSONata binds it in the evaluation's own environment, where
 * the hooks find it. A name with a space cannot be written as a variable in an expression.
 */
const STATE_BINDING = ' flowcrew evaluation';

function evaluationOf(environment: Environment): Evaluation {
  const base = environment.base;
  let evaluation = base[STATE];
  if (!evaluation) {
    evaluation = base[STATE] = base.lookup(STATE_BINDING) as Evaluation | undefined;
    if (!evaluation) throw new Error('JSONata evaluation started outside evaluateWithLimits');
  }
  return evaluation;
}

/** JSONata's own depth guard (checked as a step starts, without a hook): the backstop of the exit hook's check. */
const STACK_MARGIN = 16;

function depthError(evaluation: Evaluation): LimitExceededError {
  return evaluation.fail(`JSONata expression exceeded its depth limit of ${evaluation.limits.expressionMaxDepth} nested steps (a recursive function that never ends?)`, 'expressionMaxDepth');
}

/** Expression types whose result is an existing value (looked up or bound), measured where it was built. */
const PASS_THROUGH = new Set(['name', 'variable', 'parent', 'block', 'condition', 'bind', 'string', 'number', 'value', 'lambda', 'partial', 'regex', 'transform']);

/**
 * After every step (one hook, so one extra await per step): depth, time (every few steps; it returns the promise
 * that lets other work in when the slice is over) and the size of what the step built. Every evaluation that
 * makes progress finishes steps, so a runaway one is caught here.
 */
function onExit(expr: AstNode, _input: unknown, environment: Environment, result: unknown): Promise<void> | undefined {
  const evaluation = evaluationOf(environment);
  if (environment.base.depth >= evaluation.limits.expressionMaxDepth) throw depthError(evaluation);
  if (result !== null && (typeof result === 'string' || typeof result === 'object')) checkResult(evaluation, expr, result);
  if ((++evaluation.steps & 3) === 0) return evaluation.budget.check();
  return undefined;
}

function checkResult(evaluation: Evaluation, expr: AstNode, result: string | object): void {
  if (typeof result === 'string') {
    if (result.length > evaluation.limits.maxStringLength) {
      throw evaluation.fail(`A JSONata expression built a string of ${result.length} characters, more than the limit of ${evaluation.limits.maxStringLength}`, 'maxStringLength');
    }
    return;
  }
  if (Array.isArray(result) && result.length > evaluation.limits.maxItems) {
    throw evaluation.fail(`A JSONata expression built a sequence of ${result.length} values, more than the limit of ${evaluation.limits.maxItems}`, 'maxItems');
  }
  // A grouping (`expr{...}`) builds a new object whatever the expression type.
  if (PASS_THROUGH.has(expr.type) && expr.group === undefined) return;
  // A path that ends on one array gives that array itself (input, or built and measured by its last step).
  if (expr.type === 'path' && (result as { sequence?: boolean }).sequence !== true) return;
  // Numbers from a range need no walk: the length check above bounds them.
  if (expr.type === 'binary' && expr.value === '..') return;
  evaluation.measure(result);
}

// The built-ins replaced below, as JSONata defines them (their implementations are reused where bounded).
async function builtin(name: string): Promise<JsonataFunction> {
  return (await jsonata(`$${name}`).evaluate({})) as JsonataFunction;
}
const original = { pad: await builtin('pad'), join: await builtin('join'), distinct: await builtin('distinct') };

function isNumeric(value: unknown): boolean {
  if (typeof value !== 'number' || Number.isNaN(value)) return false;
  if (!Number.isFinite(value)) throw { code: 'D1001', value, stack: new Error().stack } satisfies JsonataError;
  return true;
}

/** $pad: refuse a width whose padding would exceed the string limit before building it. */
function pad(this: Focus, str: string | undefined, width: number, char?: string): string | undefined {
  const evaluation = evaluationOf(this.environment);
  const max = evaluation.limits.maxStringLength;
  const padding = Math.abs(Math.trunc(width)) * Math.max(1, char?.length ?? 1);
  if (str !== undefined && padding > max) throw evaluation.fail(`$pad to width ${width} exceeds the string limit of ${max} characters`, 'maxStringLength');
  return original.pad.implementation.call(this, str, width, char);
}

/** $join: refuse a result longer than the string limit before building it. */
function join(this: Focus, strs: string[] | undefined, separator?: string): string | undefined {
  if (Array.isArray(strs)) {
    const evaluation = evaluationOf(this.environment);
    let total = (separator?.length ?? 0) * Math.max(0, strs.length - 1);
    for (const s of strs) total += typeof s === 'string' ? s.length : 0;
    if (total > evaluation.limits.maxStringLength) throw evaluation.fail(`$join would build a string of ${total} characters, more than the limit of ${evaluation.limits.maxStringLength}`, 'maxStringLength');
  }
  return original.join.implementation.call(this, strs, separator);
}

const isPromise = (value: unknown): value is Promise<unknown> => typeof (value as { then?: unknown } | null)?.then === 'function';

/**
 * $sort: JSONata's merge sort copies the rest of the array at every comparison (quadratic time and memory: 20,000
 * numbers take 1.7 s and 400 MB, 100,000 exhaust the heap). Same splits and the same comparisons, on indexes, so
 * the order is identical even for a comparator that is not consistent; the time budget is checked as it goes.
 */
async function sort(this: Focus, arr: unknown[] | undefined, comparator?: (a: unknown, b: unknown) => unknown): Promise<unknown[] | undefined> {
  if (arr === undefined) return undefined;
  if (arr.length <= 1) return arr;
  let compare = comparator;
  if (compare === undefined) {
    if (!arr.every(isNumeric) && !arr.every((item) => typeof item === 'string')) throw { code: 'D3070', index: 1, stack: new Error().stack } satisfies JsonataError;
    compare = (a: any, b: any) => a > b;
  }
  const budget = evaluationOf(this.environment).budget;
  let comparisons = 0;
  const msort = async (array: unknown[]): Promise<unknown[]> => {
    if (array.length <= 1) return array;
    const middle = Math.floor(array.length / 2);
    const left = await msort(array.slice(0, middle));
    const right = await msort(array.slice(middle));
    const merged: unknown[] = [];
    let i = 0;
    let j = 0;
    while (i < left.length && j < right.length) {
      let swap = compare(left[i], right[j]);
      if (isPromise(swap)) swap = await swap;
      merged.push(swap ? right[j++] : left[i++]);
      if ((++comparisons & 1023) === 0) await budget.check();
    }
    while (i < left.length) merged.push(left[i++]);
    while (j < right.length) merged.push(right[j++]);
    return merged;
  };
  return msort(arr);
}

/**
 * $distinct: JSONata compares every value with every distinct value kept so far (quadratic, in one step). Scalars
 * go through a set; objects and arrays are still compared pairwise with JSONata's own equality, under the budget.
 */
async function distinct(this: Focus, arr: unknown): Promise<unknown> {
  if (!Array.isArray(arr) || arr.length <= 64) return original.distinct.implementation.call(this, arr);
  const budget = evaluationOf(this.environment).budget;
  const results = (arr as { sequence?: boolean }).sequence === true ? this.createSequence() : [];
  const scalars = new Set<unknown>();
  const objects: unknown[] = [];
  let comparisons = 0;
  for (const value of arr) {
    if (value === null || typeof value !== 'object') {
      // === semantics: NaN is never equal to itself.
      if (value !== value || !scalars.has(value)) {
        scalars.add(value);
        results.push(value);
      }
      continue;
    }
    let seen = false;
    for (const kept of objects) {
      if ((original.distinct.implementation.call(this, [kept, value]) as unknown[]).length === 1) {
        seen = true;
        break;
      }
      if ((++comparisons & 255) === 0) await budget.check();
    }
    if (!seen) {
      objects.push(value);
      results.push(value);
    }
  }
  return results;
}

/** JSONata's regex engine for one set of limits (JSONata constructs it with the pattern only). */
const regexEngines = new WeakMap<HostLimits, RegExpConstructor>();
function regexEngineFor(limits: HostLimits): RegExpConstructor {
  let engine = regexEngines.get(limits);
  if (!engine) regexEngines.set(limits, (engine = jsonataRegexEngine(limits)));
  return engine;
}

/** Compile `source` with the limits' regex engine, hooks and bounded built-ins. Throws JSONata's syntax errors. */
export function compileLimited(source: string, limits: HostLimits): jsonata.Expression {
  // `sequence`: JSONata refuses a range (`[1..10000000]`) or a sequence growing past the limit before allocating it.
  const expression = jsonata(source, { RegexEngine: regexEngineFor(limits), stack: limits.expressionMaxDepth + STACK_MARGIN, sequence: limits.maxItems });
  const assign = expression.assign.bind(expression) as (name: string | symbol, value: unknown) => void;
  assign(EXIT, onExit);
  // Same names and signatures as JSONata's own, which they shadow for this expression.
  const register = expression.registerFunction.bind(expression) as unknown as (name: string, implementation: (this: Focus, ...args: never[]) => unknown, signature: string) => void;
  register('pad', pad, '<s-ns?:s>');
  register('join', join, '<a<s>s?:s>');
  register('sort', sort, '<af?:a>');
  register('distinct', distinct, '<x:x>');
  return expression;
}

const SIZE_CODES = new Set(['D2014', 'D2015']);

/**
 * Evaluate under the limits. Throws LimitExceededError when a limit is exceeded (even if JSONata wrapped it), else
 * whatever the evaluation threw (through `wrap` if given: callers need no async function of their own around this
 * one). The result is refused when it is larger or deeper than a message may be.
 */
export async function evaluateWithLimits(
  expression: jsonata.Expression,
  input: unknown,
  bindings: Record<string, unknown> | undefined,
  limits: HostLimits,
  wrap?: (error: unknown) => unknown,
): Promise<unknown> {
  const evaluation = new Evaluation(limits);
  let result: unknown;
  try {
    result = await expression.evaluate(input, bindings ? { ...bindings, [STATE_BINDING]: evaluation } : { [STATE_BINDING]: evaluation });
  } catch (error) {
    if (evaluation.budget.failure) throw evaluation.budget.failure;
    if (error instanceof RangeError) {
      // The JavaScript stack or the largest string/array: a limit of the engine rather than a bad expression.
      throw new LimitExceededError(`JSONata expression exceeded what the engine can hold: ${error.message}`, { name: 'maxDepth', value: limits.maxDepth, variable: limitVariable('maxDepth') });
    }
    const code = (error as { code?: string } | null)?.code;
    if (code === 'D1011') throw depthError(evaluation);
    if (code && SIZE_CODES.has(code)) throw evaluation.fail(`A JSONata expression built a sequence of more values than the limit of ${limits.maxItems}`, 'maxItems');
    throw wrap ? wrap(error) : error;
  }
  // Built values were measured as they were built; one not measured is a part of the input (or a few scalars),
  // which the runtime has bounded already: walking it again would cost every evaluation the message's size.
  const size = result !== null && typeof result === 'object' ? evaluation.meter.known(result) : undefined;
  if (size) checkDepth(size, "A JSONata expression's result", limits);
  return result;
}
