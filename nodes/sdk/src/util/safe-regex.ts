/**
 * Regular expressions that cannot stall the runtime. A JavaScript pattern runs on RE2JS (linear time in the
 * input, no catastrophic backtracking) whenever it can be translated with the same meaning (regex-translate.ts);
 * patterns RE2 has no equivalent for (lookahead, backreferences, a few flags) keep JavaScript's engine, but each
 * use runs under a deadline that interrupts it (node:vm's `timeout` stops a backtracking match), so old Node-RED
 * flows keep working and a hostile input fails its message instead of hanging every flow.
 *
 * `SafeRegExp` is a RegExp: String.prototype.replace/match/matchAll/search/split and `test` work on it, with
 * JavaScript's semantics. `jsonataRegexEngine` is the lighter class JSONata's `RegexEngine` option needs.
 */
import vm from 'node:vm';
import type { Matcher } from 're2js';
import { hostLimits, LimitExceededError, limitVariable, type HostLimits } from './limits.ts';
import { isSurrogate, programFor, programForRegExp, type Program } from './regex-translate.ts';

type LinearProgram = Extract<Program, { engine: 'linear' }>;

// One context for every deadline-bound match: it holds nothing but the operation to run.
const sandbox = vm.createContext({ run: undefined as unknown });
const runScript = new vm.Script('run()', { filename: 'flowcrew-regex' });
// The first run in a context is slow (compilation): do it now, not inside a message's time limit.
sandbox.run = () => undefined;
runScript.runInContext(sandbox, { timeout: 1000 });
sandbox.run = undefined;

/**
 * The time one use of a backtracking pattern may take: one operation (test, replace, split...) or, for JSONata,
 * one evaluation of the regex literal (all its matches).
 */
class Deadline {
  private usedMs = 0;

  constructor(
    private readonly source: string,
    private readonly program: Program,
    private readonly limits: HostLimits,
  ) {}

  reset(): void {
    this.usedMs = 0;
  }

  run<T>(operation: () => T): T {
    const limitMs = this.limits.regexTimeoutMs;
    const remaining = limitMs - this.usedMs;
    if (remaining <= 0) throw this.timeout(limitMs);
    const started = performance.now();
    sandbox.run = operation;
    try {
      return runScript.runInContext(sandbox, { timeout: Math.max(1, Math.ceil(remaining)) }) as T;
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw this.timeout(limitMs);
      throw error;
    } finally {
      sandbox.run = undefined;
      this.usedMs += performance.now() - started;
    }
  }

  private timeout(limitMs: number): LimitExceededError {
    return new LimitExceededError(
      `The regular expression /${this.source}/ exceeded its time limit of ${limitMs} ms on this input; it runs on JavaScript's backtracking engine because ${this.program.reason}`,
      { name: 'regexTimeoutMs', value: limitMs, variable: limitVariable('regexTimeoutMs') },
    );
  }
}

/** Searches on RE2JS, keeping the matcher of the last input so that a global search over it stays linear. */
class LinearSearch {
  private matcher: Matcher | undefined;
  private input: string | undefined;

  constructor(private readonly program: LinearProgram) {}

  /** The first match at or after `start`, shaped as JavaScript's (undefined for groups that did not take part). */
  find(text: string, start: number): RegExpExecArray | null {
    if (this.input !== text || !this.matcher) {
      this.matcher = this.program.re2.matcher(text);
      this.input = text;
    }
    const m = this.matcher;
    if (!m.find(start)) return null;
    const result = [m.group(0)] as unknown as RegExpExecArray;
    for (let g = 1; g <= this.program.groups; g++) result.push(m.group(g) ?? (undefined as unknown as string));
    result.index = m.start(0);
    result.input = text;
    let groups: Record<string, string | undefined> | undefined;
    if (this.program.named) {
      groups = Object.create(null) as Record<string, string | undefined>;
      for (const [name, value] of Object.entries(m.getNamedGroups())) groups[name] = value ?? undefined;
    }
    result.groups = groups as RegExpExecArray['groups'];
    return result;
  }
}

/** Where a global search goes on after an empty match at `index` (ECMAScript's AdvanceStringIndex). */
function advance(text: string, index: number, unicode: boolean): number {
  return unicode && isSurrogate(text.charCodeAt(index)) && index + 1 < text.length ? index + 2 : index + 1;
}

/** ECMAScript's GetSubstitution: `$$`, `$&`, `` $` ``, `$'`, `$n`, `$nn` and `$<name>` in a replacement string. */
function substitute(replacement: string, match: RegExpExecArray, text: string): string {
  if (!replacement.includes('$')) return replacement;
  const matched = match[0];
  const position = match.index;
  const captureCount = match.length - 1;
  let out = '';
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    const next = replacement[i + 1];
    if (c !== '$' || next === undefined) {
      out += c;
      continue;
    }
    if (next === '$') out += '$';
    else if (next === '&') out += matched;
    else if (next === '`') out += text.slice(0, position);
    else if (next === "'") out += text.slice(Math.min(position + matched.length, text.length));
    else if (next >= '0' && next <= '9') {
      const one = next.charCodeAt(0) - 48;
      const second = replacement[i + 2];
      const two = second !== undefined && second >= '0' && second <= '9' ? one * 10 + second.charCodeAt(0) - 48 : -1;
      if (two >= 1 && two <= captureCount) {
        out += match[two] ?? '';
        i += 2;
      } else if (one >= 1 && one <= captureCount) {
        out += match[one] ?? '';
        i += 1;
      } else out += '$';
      continue;
    } else if (next === '<' && match.groups !== undefined && replacement.indexOf('>', i + 2) !== -1) {
      const close = replacement.indexOf('>', i + 2);
      const value = match.groups[replacement.slice(i + 2, close)];
      out += value === undefined ? '' : String(value);
      i = close;
      continue;
    } else {
      out += '$';
      continue;
    }
    i += 1;
  }
  return out;
}

/**
 * A RegExp that runs on RE2JS when the pattern allows it, and on JavaScript's engine under a deadline otherwise.
 * Construct it like a RegExp; an invalid JavaScript pattern throws JavaScript's SyntaxError.
 */
export class SafeRegExp extends RegExp {
  readonly #program: Program;
  readonly #limits: HostLimits;
  readonly #deadline: Deadline;
  #search: LinearSearch | undefined;

  constructor(pattern: string | RegExp, flags?: string, limits: HostLimits = hostLimits) {
    super(pattern, flags);
    this.#limits = limits;
    this.#program = programFor(this.source, this.flags);
    this.#deadline = new Deadline(this.source, this.#program, limits);
  }

  /** 'linear' (RE2JS) or 'backtracking' (JavaScript's engine, each use under FLOWCREW_REGEX_TIMEOUT_MS). */
  get engine(): 'linear' | 'backtracking' {
    return this.#program.engine;
  }

  /**
   * Why the pattern needs JavaScript's backtracking engine (under the deadline), or undefined when it runs in
   * linear time. `forMatches` false: for `test` only, where captures do not matter.
   */
  backtrackingReason(forMatches = true): string | undefined {
    const program = this.#program;
    if (program.engine === 'backtracking') return program.reason;
    return forMatches && program.capturesDiffer ? program.reason : undefined;
  }

  /** The linear search, when matches (with their captures) come from RE2JS. */
  get #linear(): LinearSearch | undefined {
    const program = this.#program;
    if (program.engine !== 'linear' || program.capturesDiffer) return undefined;
    return (this.#search ??= new LinearSearch(program));
  }

  override exec(input: string): RegExpExecArray | null {
    const text = String(input);
    const search = this.#linear;
    if (!search) return this.#deadline.run(() => RegExp.prototype.exec.call(this, text));
    const stateful = this.global || this.sticky;
    const start = stateful ? Math.max(0, Math.trunc(Number(this.lastIndex)) || 0) : 0;
    const match = start > text.length ? null : search.find(text, start);
    if (stateful) this.lastIndex = match ? match.index + match[0].length : 0;
    return match;
  }

  override test(input: string): boolean {
    this.#deadline.reset();
    const program = this.#program;
    if (program.engine === 'linear' && !this.global && !this.sticky) return program.re2.test(String(input));
    return this.exec(input) !== null;
  }

  override [Symbol.replace](input: string, replacement: string | ((substring: string, ...args: any[]) => string)): string {
    this.#deadline.reset();
    const search = this.#linear;
    if (!search) return this.#native((re) => RegExp.prototype[Symbol.replace].call(re, input, replacement as never));
    // A function replacer gets JavaScript's own algorithm (driven by exec above); a string, this one pass.
    if (typeof replacement !== 'string') return RegExp.prototype[Symbol.replace].call(this, input, replacement as never);
    const text = String(input);
    let out = '';
    let copied = 0;
    let from = 0;
    while (from <= text.length) {
      const match = search.find(text, from);
      if (!match) break;
      const end = match.index + match[0].length;
      out += text.slice(copied, match.index) + substitute(replacement, match, text);
      copied = end;
      if (!this.global) break;
      from = end === match.index ? advance(text, end, this.unicode) : end;
    }
    if (this.global) this.lastIndex = 0;
    return out + text.slice(copied);
  }

  override [Symbol.match](input: string): RegExpMatchArray | null {
    this.#deadline.reset();
    if (!this.#linear) return this.#native((re) => RegExp.prototype[Symbol.match].call(re, input));
    return RegExp.prototype[Symbol.match].call(this, input);
  }

  override [Symbol.search](input: string): number {
    this.#deadline.reset();
    return RegExp.prototype[Symbol.search].call(this, input);
  }

  override [Symbol.matchAll](input: string): RegExpStringIterator<RegExpMatchArray> {
    this.#deadline.reset();
    return RegExp.prototype[Symbol.matchAll].call(this, input);
  }

  /**
   * String.prototype.split with a regex: JavaScript's algorithm tries a sticky match at every position, which is
   * quadratic on any engine without JavaScript's internal fast path; this searches forward instead, with the same
   * result (leftmost matches, empty matches skipped at the previous split, captures spliced in, limit).
   */
  override [Symbol.split](input: string, limit?: number): string[] {
    this.#deadline.reset();
    const search = this.#linear;
    if (!search) return this.#native((re) => RegExp.prototype[Symbol.split].call(re, input, limit));
    const text = String(input);
    const max = limit === undefined ? 2 ** 32 - 1 : limit >>> 0;
    const parts: string[] = [];
    if (max === 0) return parts;
    if (text.length === 0) return search.find(text, 0) ? parts : [text];
    let previousEnd = 0;
    let from = 0;
    while (from < text.length) {
      const match = search.find(text, from);
      if (!match || match.index >= text.length) break;
      const end = Math.min(match.index + match[0].length, text.length);
      if (end === previousEnd) {
        from = advance(text, match.index, this.unicode);
        continue;
      }
      parts.push(text.slice(previousEnd, match.index));
      if (parts.length === max) return parts;
      previousEnd = end;
      for (let g = 1; g < match.length; g++) {
        parts.push(match[g] as string);
        if (parts.length === max) return parts;
      }
      from = previousEnd;
    }
    parts.push(text.slice(previousEnd));
    return parts;
  }

  /** Run JavaScript's own algorithm on a plain copy of this regex (its fast paths apply), under the deadline. */
  #native<T>(operation: (re: RegExp) => T): T {
    const native = new RegExp(this.source, this.flags);
    native.lastIndex = this.lastIndex;
    try {
      return this.#deadline.run(() => operation(native));
    } finally {
      this.lastIndex = native.lastIndex;
    }
  }
}

/**
 * What JSONata needs of its `RegexEngine`: `new Engine(literal)`, `lastIndex` and `exec` (it adds the g flag to
 * every literal and searches from lastIndex). Constructed at every evaluation of a literal, so it is light: the
 * program is found by the literal's RegExp object, and the deadline of a backtracking pattern covers all the
 * matches of that evaluation.
 */
export function jsonataRegexEngine(limits: HostLimits): RegExpConstructor {
  class JsonataRegex {
    lastIndex = 0;
    readonly #literal: RegExp;
    readonly #program: Program;
    #search: LinearSearch | undefined;
    #native: RegExp | undefined;
    #deadline: Deadline | undefined;

    constructor(literal: RegExp) {
      this.#literal = literal;
      this.#program = programForRegExp(literal);
    }

    exec(input: string): RegExpExecArray | null {
      const text = String(input);
      const program = this.#program;
      if (program.engine === 'linear' && !program.capturesDiffer) {
        this.#search ??= new LinearSearch(program);
        const match = this.lastIndex > text.length ? null : this.#search.find(text, this.lastIndex);
        this.lastIndex = match ? match.index + match[0].length : 0;
        return match;
      }
      const native = (this.#native ??= new RegExp(this.#literal.source, this.#literal.flags));
      this.#deadline ??= new Deadline(this.#literal.source, program, limits);
      native.lastIndex = this.lastIndex;
      const match = this.#deadline.run(() => native.exec(text));
      this.lastIndex = native.lastIndex;
      return match;
    }
  }
  return JsonataRegex as unknown as RegExpConstructor;
}
