/**
 * Completion for expression fields: message paths from a sample message, and JSONata's functions after `$`. In a
 * template, paths complete inside `{{ }}`.
 */
import type { Completion, CompletionContext, CompletionResult, CompletionSource } from '@codemirror/autocomplete';
import type { ExpressionLanguage } from './evaluate';
import { JSONATA_FUNCTIONS } from './jsonata-syntax';
import { messagePaths } from './paths';

const FUNCTIONS: Completion[] = JSONATA_FUNCTIONS.map(([name, args]) => ({ label: `$${name}`, detail: `(${args})`, type: 'function', apply: `$${name}(` }));

/** `sample()` is read at each completion, so a message that arrives later is used without rebuilding the editor. */
export function expressionCompletion(language: ExpressionLanguage, sample: () => unknown, options: { nodeRedInput?: boolean } = {}): CompletionSource {
  const pathOptions = (): Completion[] => {
    const paths = messagePaths(sample());
    const options_: Completion[] = paths.map((p) => ({ label: p.path, detail: p.detail, type: 'property' }));
    // A typed value may also read the message as `msg.…`, as in Node-RED.
    if (options.nodeRedInput) options_.push(...paths.map((p) => ({ label: `msg.${p.path}`, detail: p.detail, type: 'property', boost: -1 })));
    return options_;
  };
  return (context: CompletionContext): CompletionResult | null => {
    if (language === 'mustache') {
      const inTag = context.matchBefore(/\{\{\{?[#^/&]?\s*[\w.$]*$/);
      if (!inTag) return null;
      const name = /[\w.$]*$/.exec(inTag.text)![0];
      return { from: context.pos - name.length, options: pathOptions(), validFor: /^[\w.$]*$/ };
    }
    const fn = context.matchBefore(/\$[\w]*$/);
    if (fn) return { from: fn.from, options: FUNCTIONS, validFor: /^\$\w*$/ };
    const path = context.matchBefore(/[A-Za-z_`][\w.`]*$/);
    if (!path && !context.explicit) return null;
    return { from: path ? path.from : context.pos, options: pathOptions(), validFor: /^[\w.`]*$/ };
  };
}
