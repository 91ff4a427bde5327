/**
 * Syntax problems of a node's expressions, found with the JSONata and mustache parsers. Apart from fields.ts so
 * the parsers load with validation (lib/validation-lazy.ts), not with the first screen.
 */
import type { JsonSchema } from '../../api/types';
import { expressionFields } from './fields';
import { checkJsonata, lineColumn } from './jsonata-syntax';
import { checkMustache } from './mustache-syntax';

/** Syntax problems of every expression in a node's props, as pointer + message ("at line 1, column 9: …"). */
export function expressionIssues(schema: JsonSchema, props: Record<string, unknown>): Array<{ pointer: string; message: string }> {
  const issues: Array<{ pointer: string; message: string }> = [];
  for (const field of expressionFields(schema, props)) {
    const problem = field.language === 'jsonata' ? checkJsonata(field.source) : checkMustache(field.source);
    if (!problem) continue;
    const { line, column } = lineColumn(field.source, problem.from);
    const what = field.language === 'jsonata' ? 'JSONata' : 'template';
    issues.push({ pointer: field.pointer, message: field.source.trim() === '' ? `${what}: ${problem.message.toLowerCase()}` : `${what} error at line ${line}, column ${column}: ${problem.message}` });
  }
  return issues;
}
