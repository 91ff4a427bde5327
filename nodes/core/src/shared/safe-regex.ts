/**
 * Regular expressions that cannot stall the runtime. A JavaScript pattern runs on RE2JS (linear time in the
 * input, no catastrophic backtracking) whenever it can be translated with the same meaning; patterns RE2 has no
 * equivalent for (lookahead, backreferences, a few flags) keep JavaScript's engine, but each use runs under a
 * deadline that interrupts it (node:vm's `timeout` stops a backtracking match), so old Node-RED flows keep working
 * and a hostile input fails its message instead of hanging every flow.
 *
 * `SafeRegExp` is a RegExp: String.prototype.replace/match/matchAll/search/split, `test` and JSONata's
 * `RegexEngine` option all work on it, with JavaScript's semantics.
 */
import vm from 'node:vm';
import { LRUCache } from 'lru-cache';
import { RE2JS, type Matcher } from 're2js';
import { hostLimits, LimitExceededError, limitVariable, type HostLimits } from './limits.ts';

/** How a pattern runs: on RE2JS, or on JavaScript's engine under a deadline (and why). */
/**
 * How a pattern runs: on RE2JS, or on JavaScript's engine under a deadline (and why). `capturesDiffer`: a
 * capturing group inside a repeated group, which JavaScript resets at each repetition and RE2 does not; such a
 * pattern tests on RE2 but finds its matches (with their captures) on JavaScript's engine.
 */
type Program =
  | { engine: 'linear'; re2: RE2JS; groups: number; named: boolean; capturesDiffer: boolean; reason: string }
  | { engine: 'backtracking'; reason: string };

/** JavaScript's \s: WhiteSpace and LineTerminator code points, as RE2 class items. */
const JS_SPACE = '\\x{9}-\\x{d}\\x{20}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}';
/** JavaScript's `.` without the s flag: anything but a line terminator. */
const JS_DOT = '[^\\x{a}\\x{d}\\x{2028}\\x{2029}]';

const isHex = (text: string) => /^[0-9a-fA-F]+$/.test(text);
const isSurrogate = (code: number) => code >= 0xd800 && code <= 0xdfff;

class Untranslatable extends Error {}

/**
 * RE2 syntax with the meaning `source` has in JavaScript, or Untranslatable. RE2's own defaults differ in places
 * (`.` and `\s`, `\a` `\z` `\A` `\Q` `\E`, `[[:alpha:]]`, `\p` outside unicode mode), so every token is rewritten
 * explicitly rather than passed through.
 */
function translate(source: string, flags: string): { pattern: string; flags: number; capturesDiffer: boolean } {
  for (const flag of 'yvd') if (flags.includes(flag)) throw new Untranslatable(`the "${flag}" flag`);
  const unicode = flags.includes('u');
  const multiline = flags.includes('m');
  let out = '';
  let inClass = false;
  let lookbehind = false;
  let capturesDiffer = false;
  // Open groups: whether each captures, and whether a capturing group is nested in it.
  const groups: Array<{ capturing: boolean; holdsCapture: boolean }> = [];
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    const code = source.charCodeAt(i);
    if (isSurrogate(code)) {
      // Outside unicode mode JavaScript sees the two halves of a pair as two characters; RE2 sees one.
      if (!unicode) throw new Untranslatable('characters outside the Basic Multilingual Plane');
      out += c;
      continue;
    }
    if (c === '\\') {
      const [text, consumed] = translateEscape(source, i + 1, inClass, unicode);
      out += text;
      i += consumed;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      // A `[` inside a class is a plain character in JavaScript; in RE2 it may open `[:alpha:]`.
      out += c === '[' ? '\\[' : c;
      continue;
    }
    switch (c) {
      case '[':
        if (source[i + 1] === ']') {
          out += '[^\\x{0}-\\x{10FFFF}]'; // [] matches nothing
          i += 1;
        } else if (source[i + 1] === '^' && source[i + 2] === ']') {
          out += '[\\x{0}-\\x{10FFFF}]'; // [^] matches anything
          i += 2;
        } else {
          inClass = true;
          out += '[';
          if (source[i + 1] === '^') {
            out += '^';
            i += 1;
          }
        }
        break;
      case ']':
        out += '\\]';
        break;
      case '.':
        out += flags.includes('s') ? '(?s:.)' : JS_DOT;
        break;
      case '^':
      case '$':
        // JavaScript's multiline mode also ends lines at \r, U+2028 and U+2029; RE2's only at \n.
        if (multiline) throw new Untranslatable(`"${c}" in multiline mode`);
        out += c;
        break;
      case '(':
        if (source[i + 1] === '?') {
          const next = source[i + 2];
          if (next === '=' || next === '!') throw new Untranslatable('a lookahead');
          if (next === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
            groups.push({ capturing: true, holdsCapture: false });
            out += '(?P<'; // a named group
            i += 2;
            break;
          }
          if (next === '<') lookbehind = true;
          groups.push({ capturing: false, holdsCapture: false });
        } else groups.push({ capturing: true, holdsCapture: false });
        out += '(';
        break;
      case ')': {
        const group = groups.pop();
        if (group && groups.length > 0) groups[groups.length - 1]!.holdsCapture ||= group.capturing || group.holdsCapture;
        if (group?.holdsCapture && repeats(source, i + 1)) capturesDiffer = true;
        out += ')';
        break;
      }
      default:
        out += c;
    }
  }
  let re2Flags = 0;
  if (flags.includes('i')) re2Flags |= RE2JS.CASE_INSENSITIVE;
  if (lookbehind) re2Flags |= RE2JS.LOOKBEHINDS;
  return { pattern: out, flags: re2Flags, capturesDiffer };
}

/** Whether a quantifier that can repeat more than once (*, +, {n,m} with m > 1) starts at `at`. */
function repeats(source: string, at: number): boolean {
  const c = source[at];
  if (c === '*' || c === '+') return true;
  const bounds = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at, at + 24)) : null;
  if (!bounds) return false;
  const max = bounds[2] === undefined ? Number(bounds[1]) : bounds[3] === '' ? Infinity : Number(bounds[3]);
  return max > 1;
}

/** Translate the escape whose character is at `at`; returns the RE2 text and how many characters it used. */
function translateEscape(source: string, at: number, inClass: boolean, unicode: boolean): [string, number] {
  const c = source[at];
  if (c === undefined) throw new Untranslatable('a trailing backslash');
  switch (c) {
    case 'd':
    case 'D':
    case 'w':
    case 'W':
    case 'f':
    case 'n':
    case 'r':
    case 't':
    case 'v':
      return [`\\${c}`, 1];
    case 'b':
      return [inClass ? '\\x{8}' : '\\b', 1]; // backspace inside a class
    case 'B':
      if (inClass) throw new Untranslatable('\\B inside a character class');
      return ['\\B', 1];
    case 's':
      return [inClass ? JS_SPACE : `[${JS_SPACE}]`, 1];
    case 'S':
      if (inClass) throw new Untranslatable('\\S inside a character class');
      return [`[^${JS_SPACE}]`, 1];
    case '0':
      if (/[0-9]/.test(source[at + 1] ?? '')) throw new Untranslatable('an octal escape');
      return ['\\x{0}', 1];
    case 'c': {
      const letter = source[at + 1] ?? '';
      if (!/[a-zA-Z]/.test(letter)) throw new Untranslatable('"\\c" without a control letter');
      return [`\\x{${(letter.charCodeAt(0) % 32).toString(16)}}`, 2];
    }
    case 'x': {
      const hex = source.slice(at + 1, at + 3);
      return hex.length === 2 && isHex(hex) ? [`\\x{${hex}}`, 3] : ['x', 1];
    }
    case 'u': {
      if (unicode && source[at + 1] === '{') {
        const end = source.indexOf('}', at);
        return [`\\x{${source.slice(at + 2, end)}}`, end - at + 1];
      }
      const hex = source.slice(at + 1, at + 5);
      if (hex.length !== 4 || !isHex(hex)) return ['u', 1];
      // A surrogate pair written as two \u escapes is one character to RE2.
      if (isSurrogate(parseInt(hex, 16))) throw new Untranslatable('a surrogate \\u escape');
      return [`\\x{${hex}}`, 5];
    }
    case 'k':
      throw new Untranslatable('a backreference');
    case 'p':
    case 'P': {
      if (!unicode) return [c, 1]; // an identity escape outside unicode mode
      const end = source.indexOf('}', at);
      return [source.slice(at - 1, end + 1), end - at + 1];
    }
    default:
      if (/[1-9]/.test(c)) throw new Untranslatable('a backreference');
      // Other letters are identity escapes in JavaScript (unicode mode refuses them), but some mean something
      // in RE2 (\a \z \A \Q \E): write the letter itself.
      if (/[a-zA-Z]/.test(c)) return [c, 1];
      if (c.charCodeAt(0) < 0x80) return [`\\${c}`, 1];
      if (isSurrogate(c.charCodeAt(0))) throw new Untranslatable('characters outside the Basic Multilingual Plane');
      return [c, 1];
  }
}

function compileProgram(source: string, flags: string): Program {
  try {
    const { pattern, flags: re2Flags, capturesDiffer } = translate(source, flags);
    const re2 = RE2JS.compile(pattern, re2Flags);
    const reason = capturesDiffer ? 'it has a capturing group inside a repeated group (JavaScript resets it at each repetition)' : '';
    return { engine: 'linear', re2, groups: re2.groupCount(), named: Object.keys(re2.namedGroups()).length > 0, capturesDiffer, reason };
  } catch (error) {
    if (error instanceof Untranslatable) return { engine: 'backtracking', reason: `it uses ${error.message}` };
    return { engine: 'backtracking', reason: `the linear-time engine cannot run it (${(error as Error).message})` };
  }
}

/** Compiled programs by flags and source: patterns may come from messages, so the cache is bounded. */
const programs = new LRUCache<string, Program>({ max: 500 });

function programFor(source: string, flags: string): Program {
  const key = `${flags}/${source}`;
  let program = programs.get(key);
  if (!program) programs.set(key, (program = compileProgram(source, flags)));
  return program;
}

// One context for every deadline-bound match: it holds nothing but the regex, the input and the operation.
const sandbox = vm.createContext({ run: undefined as unknown });
const runScript = new vm.Script('run()', { filename: 'flowcrew-regex' });
// The first run in a context is slow (compilation): do it now, not inside a message's time limit.
sandbox.run = () => undefined;
runScript.runInContext(sandbox, { timeout: 1000 });
sandbox.run = undefined;

/**
 * A RegExp that runs on RE2JS when the pattern allows it, and on JavaScript's engine under a deadline otherwise.
 * Construct it like a RegExp; an invalid JavaScript pattern throws JavaScript's SyntaxError.
 */
export class SafeRegExp extends RegExp {
  readonly #program: Program;
  readonly #limits: HostLimits;
  /** Deadline-bound engine: time used by the current operation (replace, split, test, or one JSONata literal). */
  #usedMs = 0;
  /** Linear engine: the matcher of the last input, reused so that a global search stays linear. */
  #matcher: Matcher | undefined;
  #matcherInput: string | undefined;

  constructor(pattern: string | RegExp, flags?: string, limits: HostLimits = hostLimits) {
    super(pattern, flags);
    this.#limits = limits;
    this.#program = programFor(this.source, this.flags);
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

  /** Whether matches (with their captures) are found by JavaScript's engine, under the deadline. */
  get #backtracks(): boolean {
    return this.#program.engine === 'backtracking' || this.#program.capturesDiffer;
  }

  override exec(input: string): RegExpExecArray | null {
    const program = this.#program;
    const text = String(input);
    if (program.engine === 'backtracking' || program.capturesDiffer) return this.#underDeadline(() => RegExp.prototype.exec.call(this, text));
    const stateful = this.global || this.sticky;
    const start = stateful ? Math.max(0, Math.trunc(Number(this.lastIndex)) || 0) : 0;
    if (start > text.length) {
      this.lastIndex = 0;
      return null;
    }
    if (this.#matcherInput !== text || !this.#matcher) {
      this.#matcher = program.re2.matcher(text);
      this.#matcherInput = text;
    }
    const m = this.#matcher;
    if (!m.find(start)) {
      if (stateful) this.lastIndex = 0;
      return null;
    }
    // The shape of a JavaScript match: unmatched groups are undefined, named groups in `groups`.
    const result = [m.group(0)] as unknown as RegExpExecArray;
    for (let g = 1; g <= program.groups; g++) result.push(m.group(g) ?? (undefined as unknown as string));
    result.index = m.start(0);
    result.input = text;
    let groups: Record<string, string | undefined> | undefined;
    if (program.named) {
      groups = Object.create(null) as Record<string, string | undefined>;
      for (const [name, value] of Object.entries(m.getNamedGroups())) groups[name] = value ?? undefined;
    }
    result.groups = groups as RegExpExecArray["groups"];
    if (stateful) this.lastIndex = m.end(0);
    return result;
  }

  override test(input: string): boolean {
    this.#usedMs = 0;
    const program = this.#program;
    if (program.engine === 'linear' && !this.global && !this.sticky) return program.re2.test(String(input));
    return this.exec(input) !== null;
  }

  override [Symbol.replace](input: string, replacement: string | ((substring: string, ...args: any[]) => string)): string {
    this.#usedMs = 0;
    if (this.#backtracks) return this.#nativeUnderDeadline((re) => RegExp.prototype[Symbol.replace].call(re, input, replacement as never));
    return RegExp.prototype[Symbol.replace].call(this, input, replacement as never);
  }

  override [Symbol.match](input: string): RegExpMatchArray | null {
    this.#usedMs = 0;
    if (this.#backtracks) return this.#nativeUnderDeadline((re) => RegExp.prototype[Symbol.match].call(re, input));
    return RegExp.prototype[Symbol.match].call(this, input);
  }

  override [Symbol.search](input: string): number {
    this.#usedMs = 0;
    return RegExp.prototype[Symbol.search].call(this, input);
  }

  override [Symbol.matchAll](input: string): RegExpStringIterator<RegExpMatchArray> {
    this.#usedMs = 0;
    return RegExp.prototype[Symbol.matchAll].call(this, input);
  }

  /**
   * String.prototype.split with a regex: JavaScript's algorithm tries a sticky match at every position, which is
   * quadratic on any engine without JavaScript's internal fast path; this searches forward instead, with the same
   * result (leftmost matches, empty matches skipped at the previous split, captures spliced in, limit).
   */
  override [Symbol.split](input: string, limit?: number): string[] {
    this.#usedMs = 0;
    if (this.#backtracks) return this.#nativeUnderDeadline((re) => RegExp.prototype[Symbol.split].call(re, input, limit));
    const text = String(input);
    const max = limit === undefined ? 2 ** 32 - 1 : limit >>> 0;
    const parts: string[] = [];
    if (max === 0) return parts;
    const searcher = new SafeRegExp(this, this.flags.includes('g') ? this.flags : `${this.flags}g`, this.#limits);
    if (text.length === 0) return searcher.exec(text) ? parts : [text];
    let previousEnd = 0;
    let from = 0;
    while (from < text.length) {
      searcher.lastIndex = from;
      const match = searcher.exec(text);
      if (!match || match.index >= text.length) break;
      const end = Math.min(searcher.lastIndex, text.length);
      if (end === previousEnd) {
        from = match.index + (this.unicode && isSurrogate(text.charCodeAt(match.index)) && match.index + 1 < text.length ? 2 : 1);
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
  #nativeUnderDeadline<T>(operation: (re: RegExp) => T): T {
    const native = new RegExp(this.source, this.flags);
    native.lastIndex = this.lastIndex;
    try {
      return this.#underDeadline(() => operation(native));
    } finally {
      this.lastIndex = native.lastIndex;
    }
  }

  #underDeadline<T>(operation: () => T): T {
    const limitMs = this.#limits.regexTimeoutMs;
    const remaining = limitMs - this.#usedMs;
    if (remaining <= 0) throw this.#timeout(limitMs);
    const started = performance.now();
    sandbox.run = operation;
    try {
      return runScript.runInContext(sandbox, { timeout: Math.max(1, Math.ceil(remaining)) }) as T;
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw this.#timeout(limitMs);
      throw error;
    } finally {
      sandbox.run = undefined;
      this.#usedMs += performance.now() - started;
    }
  }

  #timeout(limitMs: number): LimitExceededError {
    const reason = this.#program.reason;
    return new LimitExceededError(
      `The regular expression /${this.source}/ exceeded its time limit of ${limitMs} ms on this input; it runs on JavaScript's backtracking engine because ${reason}`,
      { name: 'regexTimeoutMs', value: limitMs, variable: limitVariable('regexTimeoutMs') },
    );
  }
}

/** A SafeRegExp for a pattern given as text or as a RegExp (its flags kept unless `flags` is given). */
export function safeRegExp(pattern: string | RegExp, flags?: string, limits: HostLimits = hostLimits): SafeRegExp {
  return new SafeRegExp(pattern, flags, limits);
}
