/**
 * JSON Schema for the validate node, on the set-up the runtime validates props with (@flowcrew/sdk/schema: ajv,
 * draft 2020-12, allErrors, strict off, the same formats and keywords), so a schema that works for a node's props
 * works here the same. Schemas that name draft-07 or draft-06 in `$schema` get ajv's draft-07 class instead (older
 * schemas are common in the wild; 2020-12 changed `items` and `definitions`).
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createDraft07SchemaValidator, createSchemaValidator } from '@flowcrew/sdk/schema';
import { SafeRegExp } from '@flowcrew/sdk/util';

/** One problem in the validated value: a JSON pointer into it ('' for the value itself) and what is wrong. */
export interface ValueIssue {
  pointer: string;
  message: string;
  /** The schema keyword that failed ('required', 'type', 'format', ...) and its schema location. */
  keyword: string;
  schemaPath: string;
}

export type CompiledSchema = (value: unknown) => ValueIssue[];

/** `pattern` runs over message data: on a linear-time regex engine, so a pattern cannot stall the runtime. */
const regExp = Object.assign((pattern: string, flags: string) => new SafeRegExp(pattern, flags), { code: 'SafeRegExp' });


/**
 * Compile `schema` (throws, saying why, for a schema that does not compile). A fresh ajv per schema: a node's
 * `$id` must not clash with another node's, and nothing is kept after the node is undeployed.
 */
export function compileSchema(schema: unknown): CompiledSchema {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    if (typeof schema !== 'boolean') throw new Error('the schema must be a JSON Schema object (or true/false)');
  }
  const dialect = typeof schema === 'object' && schema !== null ? String((schema as { $schema?: unknown }).$schema ?? '') : '';
  const ajv = /draft-0[67]/.test(dialect) ? createDraft07SchemaValidator({ regExp }) : createSchemaValidator({ regExp });
  const validate: ValidateFunction = ajv.compile(schema as object);
  // An `$async` schema validates through a promise, which would always read as valid here.
  if ((validate as { $async?: boolean }).$async) throw new Error('asynchronous schemas ($async) are not supported');
  return (value) => (validate(value) ? [] : issuesOf(validate.errors));
}

/** ajv's errors as pointer + message, phrased as the runtime phrases prop issues. */
export function issuesOf(errors: ErrorObject[] | null | undefined): ValueIssue[] {
  const issues: ValueIssue[] = [];
  for (const error of errors ?? []) {
    // oneOf/anyOf failures repeat every branch's errors: keep the summary only.
    if (/\/(oneOf|anyOf)\//.test(error.schemaPath)) continue;
    let pointer = error.instancePath;
    let message = error.message ?? 'is invalid';
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'required') {
      pointer += `/${escapePointer(String(params.missingProperty))}`;
      message = 'is required';
    } else if (error.keyword === 'additionalProperties') {
      pointer += `/${escapePointer(String(params.additionalProperty))}`;
      message = 'is not an allowed property';
    } else if (error.keyword === 'enum') {
      message = `must be one of ${JSON.stringify(params.allowedValues)}`;
    } else if (error.keyword === 'oneOf' || error.keyword === 'anyOf') {
      message = 'does not match any of the allowed forms';
    }
    if (!issues.some((i) => i.pointer === pointer && i.message === message)) issues.push({ pointer, message, keyword: error.keyword, schemaPath: error.schemaPath });
  }
  return issues;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
