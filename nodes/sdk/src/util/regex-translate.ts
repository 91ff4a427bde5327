/**
 * JavaScript regular expressions in RE2 syntax, with the same meaning, so that they run on RE2JS in linear time;
 * and the compiled programs, cached. A pattern with no RE2 equivalent (lookahead, backreferences, a few flags) is
 * compiled as "backtracking", with the reason, for JavaScript's engine under a deadline (see safe-regex.ts).
 */
import { LRUCache } from 'lru-cache';
import { RE2JS } from 're2js';

/**
 * How a pattern runs: on RE2JS, or on JavaScript's engine under a deadline (and why). `capturesDiffer`: a
 * capturing group inside a repeated group, which JavaScript resets at each repetition and RE2 does not; such a
 * pattern tests on RE2 but finds its matches (with their captures) on JavaScript's engine.
 */
export type Program =
  | { engine: 'linear'; re2: RE2JS; groups: number; named: boolean; capturesDiffer: boolean; reason: string }
  | { engine: 'backtracking'; reason: string };

/** JavaScript's \s: WhiteSpace and LineTerminator code points, as RE2 class items. */
const JS_SPACE = '\\x{9}-\\x{d}\\x{20}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}';
/** JavaScript's `.` without the s flag: anything but a line terminator. */
const JS_DOT = '[^\\x{a}\\x{d}\\x{2028}\\x{2029}]';

const isHex = (text: string) => /^[0-9a-fA-F]+$/.test(text);
export const isSurrogate = (code: number) => code >= 0xd800 && code <= 0xdfff;

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
const programs = new LRUCache<string, Program>({ max: 500, maxSize: 4 * 1024 * 1024, maxEntrySize: 64 * 1024, sizeCalculation: (_program, key) => Math.max(1, key.length) });

/** The program for a pattern; `g` does not change the program (the caller keeps lastIndex). */
export function programFor(source: string, flags: string): Program {
  const key = `${flags.replace('g', '')}/${source}`;
  let program = programs.get(key);
  if (!program) programs.set(key, (program = compileProgram(source, flags)));
  return program;
}

/** The same, remembered per RegExp object: JSONata hands the same regex literal over at every evaluation. */
const byRegExp = new WeakMap<RegExp, Program>();
export function programForRegExp(re: RegExp): Program {
  let program = byRegExp.get(re);
  if (!program) byRegExp.set(re, (program = programFor(re.source, re.flags)));
  return program;
}
