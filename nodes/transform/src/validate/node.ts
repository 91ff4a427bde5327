/** The validate node: JSON Schema check of a message property, or of every row of a row set; failures on port 2. */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { defineNode, getProperty, isBlobRef, JSON_LINES, type BlobRef, type BlobServices, type FlowMessage, type JsonSchema, type NodeIssue } from '@flowcrew/sdk';
import { withDefaults } from '../defaults.ts';
import { rowPages } from '../rows.ts';
import { compileSchema, type CompiledSchema, type ValueIssue } from './schema.ts';

export interface ValidateProps {
  mode: 'message' | 'rows';
  property: string;
  schema: Record<string, unknown> | boolean;
  maxIssues: number;
  pageSize: number;
}

const props = {
  type: 'object',
  required: ['schema'],
  additionalProperties: false,
  properties: {
    mode: {
      title: 'What to validate',
      enum: ['message', 'rows'],
      default: 'message',
      description: 'message: the property as one value. rows: every row of an array or a JSON Lines blob (e.g. a database page), valid and invalid rows split.',
    },
    property: { title: 'Property', type: 'string', minLength: 1, default: 'payload', description: 'The message property to validate (payload, payload.order, ...).' },
    schema: {
      title: 'JSON Schema',
      type: ['object', 'boolean'],
      format: 'json',
      description: 'The schema the value (or each row) must match: draft 2020-12 by default; draft-07/06 when its $schema says so. Standard formats (email, date-time, uri, ...) are checked.',
    },
    maxIssues: { title: 'Problems listed at most', type: 'integer', minimum: 1, maximum: 1000, default: 20, description: 'Per message (or per row): how many problems are reported.' },
    pageSize: { title: 'Rows per page', type: 'integer', minimum: 1, maximum: 100_000, default: 1000, description: 'rows: rows read and checked at a time from a blob.' },
  },
} as const satisfies JsonSchema;

const help = `# Validate

Checks data against a **JSON Schema** (ajv, draft 2020-12, all problems reported, standard formats checked; a schema
whose \`$schema\` names draft-07 or draft-06 is read as such).

- **message**: the value at \`property\` is checked. Valid messages leave on the first output unchanged; invalid ones
  on the second, with \`msg.validationErrors\`: a list of \`{ pointer, message, keyword, schemaPath }\` where
  \`pointer\` is a JSON pointer into the value (\`/items/2/price\`), and \`msg.error.message\` summing them up.
- **rows**: \`property\` holds rows, an array or a JSON Lines blob reference (a database node's page). Each row is
  checked; valid rows go out on the first output and invalid rows on the second as \`{ index, row, issues }\`, in the
  same form they came (array in, arrays out; blob in, blobs out, read and written a page at a time).
  \`msg.validation\` says how many rows were valid and invalid. An output with no rows sends nothing.

The schema is compiled when the flow is saved: a schema that does not compile is reported there.`;

export const validateNode = defineNode<ValidateProps>({
  type: 'validate',
  category: 'transform',
  label: 'Validate',
  icon: 'rule',
  color: '#E2D96E',
  inputs: 1,
  outputs: 2,
  outputLabels: ['valid', 'invalid'],
  props,
  help,
  usableAsTool: false,
  validate(p) {
    try {
      compileSchema(p.schema);
      return [];
    } catch (error) {
      return [{ pointer: '/schema', message: `does not compile: ${(error as Error).message}` } satisfies NodeIssue];
    }
  },
  create(init) {
    const p = withDefaults<ValidateProps>(props, init.props);
    const check = compileSchema(p.schema);
    const blobs = init.services.blobs;
    return {
      async onInput(msg: FlowMessage, ctx) {
        const value = getProperty(msg, p.property);
        if (p.mode === 'message') {
          const issues = check(value);
          if (issues.length === 0) return [msg, null];
          const listed = issues.slice(0, p.maxIssues);
          const more = issues.length > listed.length ? ` (and ${issues.length - listed.length} more)` : '';
          const text = listed.map((i) => `${i.pointer || '(root)'} ${i.message}`).join('; ');
          return [null, { ...msg, validationErrors: listed, error: { message: `msg.${p.property} does not match the schema: ${text}${more}`, source: { id: init.id, type: 'validate' } } }];
        }
        const pages = rowPages(value, blobs, p.pageSize, `msg.${p.property}`);
        const split = isBlobRef(value) ? await splitToBlobs(pages, check, p.maxIssues, blobs, ctx.runId, ctx.signal) : await splitToArrays(pages, check, p.maxIssues);
        const validation = { rows: split.valid + split.invalid, valid: split.valid, invalid: split.invalid };
        return [split.valid > 0 ? { ...msg, payload: split.good, validation } : null, split.invalid > 0 ? { ...msg, payload: split.bad, validation } : null];
      },
    };
  },
});

interface Split<T> {
  good: T;
  bad: T;
  valid: number;
  invalid: number;
}

async function splitToArrays(pages: AsyncIterable<unknown[]>, check: CompiledSchema, maxIssues: number): Promise<Split<unknown[]>> {
  const good: unknown[] = [];
  const bad: unknown[] = [];
  let index = 0;
  for await (const page of pages) {
    for (const row of page) {
      const issues = check(row);
      if (issues.length === 0) good.push(row);
      else bad.push(invalidRow(index, row, issues, maxIssues));
      index++;
    }
  }
  return { good, bad, valid: good.length, invalid: bad.length };
}

function invalidRow(index: number, row: unknown, issues: ValueIssue[], maxIssues: number) {
  return { index, row, issues: issues.slice(0, maxIssues) };
}

/** Valid and invalid rows each streamed into their own JSON Lines blob, one page in memory at a time. */
async function splitToBlobs(pages: AsyncIterable<unknown[]>, check: CompiledSchema, maxIssues: number, blobs: BlobServices, runId: string, signal: AbortSignal): Promise<Split<BlobRef>> {
  const good = new PassThrough();
  const bad = new PassThrough();
  const putGood = blobs.put(good, { runId, contentType: JSON_LINES });
  const putBad = blobs.put(bad, { runId, contentType: JSON_LINES });
  // A failed put (disk full) must end the loop, not leave it waiting for 'drain' forever.
  const failed = Promise.race([putGood, putBad]).then(() => new Promise<never>(() => undefined));
  failed.catch(() => undefined);
  const write = async (stream: PassThrough, text: string) => {
    if (text && !stream.write(text)) await Promise.race([once(stream, 'drain'), failed]);
  };
  let valid = 0;
  let invalid = 0;
  try {
    for await (const page of pages) {
      if (signal.aborted) throw signal.reason as Error;
      let goodText = '';
      let badText = '';
      for (const row of page) {
        const issues = check(row);
        if (issues.length === 0) {
          goodText += `${JSON.stringify(row)}\n`;
          valid++;
        } else {
          badText += `${JSON.stringify(invalidRow(valid + invalid, row, issues, maxIssues))}\n`;
          invalid++;
        }
      }
      await write(good, goodText);
      await write(bad, badText);
    }
    good.end();
    bad.end();
    return { good: await putGood, bad: await putBad, valid, invalid };
  } catch (error) {
    good.destroy(error as Error);
    bad.destroy(error as Error);
    await Promise.allSettled([putGood, putBad]);
    throw error;
  }
}
