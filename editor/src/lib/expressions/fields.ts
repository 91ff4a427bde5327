/**
 * Where a node's props hold expressions, read from its schema: JSONata fields (`format: 'jsonata'`, or a prop named
 * `expression`), mustache templates (`format: 'mustache'`), and Node-RED typed values whose type is "jsonata"
 * (a change rule's value, a switch rule's operand, an inject payload). The form gives them the expression editor;
 * validation checks their syntax before anything is sent (issues.ts: the parsers are loaded with validation).
 */
import type { JsonSchema } from '../../api/types';
import { codeLanguage, fieldKind, pointerJoin, typedPairs, visibleProperties } from '../schema';
import type { ExpressionLanguage } from './evaluate';

export interface ExpressionField {
  pointer: string;
  language: ExpressionLanguage;
  source: string;
  nodeRedInput: boolean;
}

/** The expression language of a code field, if it holds one. */
export function expressionLanguage(schema: JsonSchema, name: string | undefined): ExpressionLanguage | null {
  if (schema.format === 'mustache' || schema['x-language'] === 'mustache') return 'mustache';
  if (fieldKind(schema, name) === 'code' && codeLanguage(schema, name) === 'jsonata') return 'jsonata';
  return null;
}

export function expressionFields(schema: JsonSchema, value: unknown, pointer = '', name?: string): ExpressionField[] {
  const found: ExpressionField[] = [];
  const language = expressionLanguage(schema, name);
  if (language) {
    // An empty field is the schema's business (minLength, required): a template may be empty on purpose.
    if (typeof value === 'string' && value.trim() !== '') found.push({ pointer, language, source: value, nodeRedInput: false });
    return found;
  }
  if (Array.isArray(value) && schema.items && typeof schema.items === 'object') {
    value.forEach((item, index) => found.push(...expressionFields(schema.items as JsonSchema, item, pointerJoin(pointer, index), `${name ?? ''}[${index}]`)));
    return found;
  }
  if (value && typeof value === 'object' && !Array.isArray(value) && schema.properties) {
    const record = value as Record<string, unknown>;
    const properties = visibleProperties(schema, record);
    const pairs = typedPairs(properties);
    for (const [key, sub] of Object.entries(properties)) {
      const typeKey = pairs.get(key);
      if (typeKey) {
        const type = record[typeKey] ?? properties[typeKey]?.default;
        if (type === 'jsonata' && typeof record[key] === 'string') found.push({ pointer: pointerJoin(pointer, key), language: 'jsonata', source: record[key] as string, nodeRedInput: true });
        continue;
      }
      if (key in record) found.push(...expressionFields(sub, record[key], pointerJoin(pointer, key), key));
    }
  }
  return found;
}
