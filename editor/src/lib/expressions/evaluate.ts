/**
 * What an expression gives for a sample message, as the runtime would compute it (nodes/core: compileJsonata,
 * the template node): run in a Web Worker (preview.worker.ts) so a slow expression cannot freeze the editor.
 * Context reads have nothing to read in the browser: they give nothing, and the preview says so.
 */
import jsonata from 'jsonata';
import Mustache from 'mustache';
import { problemRange } from './jsonata-syntax';

export type ExpressionLanguage = 'jsonata' | 'mustache';

export interface PreviewRequest {
  language: ExpressionLanguage;
  source: string;
  /** The message the expression is evaluated against. */
  input: unknown;
  /**
   * A Node-RED typed value (type "jsonata" of a change rule, a switch rule, an inject payload): an expression that
   * mentions `msg` sees `{ msg }` as its input, as Node-RED's legacy mode does; otherwise the message itself.
   */
  nodeRedInput?: boolean;
}

export type PreviewResult =
  | { ok: true; value: unknown; /** JSONata gave no value (no match): the property is removed. */ empty: boolean; notes: string[] }
  | { ok: false; message: string; from?: number; to?: number; notes: string[] };

/** The runtime's own test (nodes/core expressions: Node-RED's prepareJSONataExpression). */
const LEGACY_MSG = /(^|[^a-zA-Z0-9_'".])msg([^a-zA-Z0-9_'"]|$)/;
const CONTEXT_READ = /\$(flowContext|globalContext)\s*\(|\{\{\{?\s*[#^&]?\s*(flow|global)(\[\w+\])?\./;

function notesFor(source: string): string[] {
  return CONTEXT_READ.test(source) ? ['Flow and global context values are not available in the preview: they read as nothing here.'] : [];
}

export async function evaluatePreview(request: PreviewRequest): Promise<PreviewResult> {
  const notes = notesFor(request.source);
  if (request.language === 'mustache') {
    try {
      // The template node renders names the message lacks (and context names, here) as nothing, as mustache does.
      const text = Mustache.render(request.source, request.input ?? {});
      return { ok: true, value: text, empty: false, notes };
    } catch (error) {
      return { ok: false, message: (error as Error).message, notes };
    }
  }
  let expression: jsonata.Expression;
  try {
    expression = jsonata(request.source);
  } catch (error) {
    const e = error as { message?: string; position?: number; token?: unknown };
    const message = e.message ?? String(error);
    return { ok: false, message: /^syntax error/i.test(message) ? message : `Syntax error: ${message}`, ...problemRange(request.source, e), notes };
  }
  expression.assign('flowContext', () => undefined);
  expression.assign('globalContext', () => undefined);
  expression.assign('env', () => '');
  expression.registerFunction('clone', (value: unknown) => (value === undefined ? undefined : structuredClone(value)), '<(oa)-:o>');
  const input = request.nodeRedInput && LEGACY_MSG.test(request.source) ? { msg: request.input } : request.input;
  try {
    const value: unknown = await expression.evaluate(input);
    // JSONata sequences are arrays with extra flags: plain JSON for the preview.
    return { ok: true, value: value === undefined ? undefined : JSON.parse(JSON.stringify(value)), empty: value === undefined, notes };
  } catch (error) {
    const e = error as { message?: string; position?: number; token?: unknown };
    const range = typeof e.position === 'number' ? problemRange(request.source, e) : {};
    return { ok: false, message: e.message ?? String(error), ...range, notes };
  }
}
