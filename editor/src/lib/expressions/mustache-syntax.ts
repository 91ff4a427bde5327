/** Mustache templates in the editor: the syntax check (mustache's own parser). Highlighting: mustache-language.ts. */
import Mustache from 'mustache';
import type { SyntaxProblem } from './jsonata-syntax';

/** The first syntax error of a template, or null. mustache says "... at <offset>"; the range runs from there to the end of that line. */
export function checkMustache(source: string): SyntaxProblem | null {
  try {
    Mustache.parse(source);
    return null;
  } catch (error) {
    const message = (error as Error).message;
    const at = /\bat (\d+)$/.exec(message);
    const from = at ? Math.min(Number(at[1]), source.length) : 0;
    const lineEnd = source.indexOf('\n', from);
    const to = Math.max(from + 1, lineEnd === -1 ? source.length : lineEnd);
    return { message: at ? message.slice(0, at.index).trim() : message, from: Math.max(0, Math.min(from, source.length - 1)), to: Math.min(to, source.length) };
  }
}
