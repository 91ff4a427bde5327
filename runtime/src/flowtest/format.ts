/**
 * The flow test file (JSON or YAML): which flow, the mocked nodes, and cases (an input at a trigger or any node, the
 * expected run status, assertions on any node's output or input, on the reply). Parsing reports every problem with
 * its line and column, so a CI log points at the exact place; nothing runs from a file that does not parse.
 */
import type { FlowMessage } from '@flowcrew/sdk';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { ajvIssues } from '../flow/validate.ts';
import { createPropsValidator } from '../registry/credential-type-checks.ts';
import type { Pins } from './pins.ts';

export interface NodeAssertion {
  /** The node asserted on. */
  node: string;
  /** Its output messages (default) or the messages it received. */
  on?: 'output' | 'input';
  /** Output port (outputs only; default: every port). */
  port?: number;
  /** Which message (default 0, the first); `every: true` asserts on each one instead. */
  message?: number;
  every?: boolean;
  /** Deep equality (ignoring the runtime's _msgid and _replyTo). */
  equals?: unknown;
  /** Subset match: every property given must match, others may exist; arrays match element by element. */
  match?: unknown;
  /** JSON Schema the message must satisfy. */
  schema?: Record<string, unknown>;
  /** JSONata over the message that must be truthy. */
  jsonata?: string;
  /** How many messages (on this port / received). */
  count?: number;
  /** Whether the node ran at all. */
  called?: boolean;
  /** The node failed; a string must be part of its error. */
  error?: boolean | string;
}

export interface ReplyAssertion {
  status?: number;
  equals?: unknown;
  match?: unknown;
  schema?: Record<string, unknown>;
  jsonata?: string;
}

export interface FlowTestCase {
  name: string;
  /** Where the message enters: at a trigger it is what the trigger emits (on `port`), elsewhere the node's input. */
  input: { node: string; msg?: FlowMessage; port?: number };
  /** Mocks for this case only, over the suite's. */
  mocks?: Pins;
  /** Expected run status (default succeeded). */
  status?: 'succeeded' | 'failed';
  expect?: NodeAssertion[];
  reply?: ReplyAssertion;
  timeoutMs?: number;
}

export interface FlowTestSuite {
  /** Id of a stored flow; or `flowFile`, a flow file relative to the test file (CI with flows in the repository), of which `flow` picks one. */
  flow?: string;
  flowFile?: string;
  name?: string;
  /** Mocked nodes: each replaced by a node sending pinned messages or failing with a pinned error (pins.ts). */
  mocks?: Pins;
  /** Per-case time limit, ms (default 10,000). */
  timeoutMs?: number;
  /** Environment variables the flow reads in these tests ($env, env typed values, `${NAME}` props), over the instance's. */
  env?: Record<string, string>;
  cases: FlowTestCase[];
}

export interface FileIssue {
  pointer: string;
  line: number;
  column: number;
  message: string;
}

/** A test file that cannot be used: every problem with its place. */
export class FlowTestFileError extends Error {
  constructor(
    readonly file: string,
    readonly issues: FileIssue[],
  ) {
    super(issues.map((i) => `${file}:${i.line}:${i.column}: ${i.message}${i.pointer ? ` (at ${i.pointer})` : ''}`).join('\n'));
    this.name = 'FlowTestFileError';
  }
}

const pin = {
  type: 'object',
  additionalProperties: false,
  properties: {
    outputs: { type: 'array', items: { type: 'object', required: ['msg'], additionalProperties: false, properties: { port: { type: 'integer', minimum: 0 }, msg: { type: 'object' } } } },
    error: { type: 'string' },
    merge: { type: 'boolean' },
  },
  anyOf: [{ required: ['outputs'] }, { required: ['error'] }],
};
const checks = { match: {}, schema: { type: 'object' }, jsonata: { type: 'string', minLength: 1 } };

export const suiteSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cases'],
  anyOf: [{ required: ['flow'] }, { required: ['flowFile'] }],
  properties: {
    flow: { type: 'string', minLength: 1 },
    flowFile: { type: 'string', minLength: 1 },
    name: { type: 'string' },
    mocks: { type: 'object', additionalProperties: pin },
    timeoutMs: { type: 'integer', minimum: 1 },
    env: { type: 'object', propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, additionalProperties: { type: 'string' } },
    cases: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'input'],
        properties: {
          name: { type: 'string', minLength: 1 },
          input: {
            type: 'object',
            additionalProperties: false,
            required: ['node'],
            properties: { node: { type: 'string', minLength: 1 }, msg: { type: 'object' }, port: { type: 'integer', minimum: 0 } },
          },
          mocks: { type: 'object', additionalProperties: pin },
          status: { enum: ['succeeded', 'failed'] },
          timeoutMs: { type: 'integer', minimum: 1 },
          reply: { type: 'object', additionalProperties: false, properties: { status: { type: 'integer' }, equals: {}, ...checks } },
          expect: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['node'],
              properties: {
                node: { type: 'string', minLength: 1 },
                on: { enum: ['output', 'input'] },
                port: { type: 'integer', minimum: 0 },
                message: { type: 'integer', minimum: 0 },
                every: { type: 'boolean' },
                equals: {},
                ...checks,
                count: { type: 'integer', minimum: 0 },
                called: { type: 'boolean' },
                error: { type: ['boolean', 'string'] },
              },
            },
          },
        },
      },
    },
  },
} as const;

const ajv = createPropsValidator();
const checkSuite = ajv.compile(suiteSchema);

/** Where a JSON pointer lands in the parsed text (1-based); the start of the file when it cannot be found. */
function locate(doc: Document, lines: LineCounter, pointer: string): { line: number; column: number } {
  const path = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  // Walk down as far as the path exists (a missing property is reported where its parent is).
  for (let n = path.length; n >= 0; n--) {
    const keys = path.slice(0, n).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    const node = n === 0 ? doc.contents : doc.getIn(keys, true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) {
      const { line, col } = lines.linePos(range[0]);
      return { line, column: col };
    }
  }
  return { line: 1, column: 1 };
}

/** Line and column of a character offset. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

/**
 * Parse and check a test file's text; `file` names it in messages and decides JSON (.json) or YAML. With `flow`, the
 * text is a suite kept with that flow (the editor's test panel): it names no flow of its own (`flow` may repeat the
 * id; `flowFile` is refused), and the returned suite tests that flow.
 */
export function parseSuite(text: string, file: string, options: { flow?: string } = {}): FlowTestSuite {
  const lines = new LineCounter();
  if (file.endsWith('.json')) {
    try {
      JSON.parse(text);
    } catch (error) {
      const message = (error as Error).message;
      // Node 20 gives a position for most JSON errors, not all: the YAML parser (JSON is YAML) places the rest.
      const at = /position (\d+)/.exec(message);
      const yamlError = at ? undefined : parseDocument(text).errors[0];
      const { line, column } = at ? position(text, Number(at[1])) : yamlError ? position(text, yamlError.pos[0]) : { line: 1, column: 1 };
      const reason = message.replace(/ in JSON at position \d+.*$/, '').replace(/, (\.\.\.)?"[\s\S]*" is not valid JSON$/, '');
      throw new FlowTestFileError(file, [{ pointer: '', line, column, message: `invalid JSON: ${reason}` }]);
    }
  }
  // JSON is YAML: one parser gives positions for both.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new FlowTestFileError(
      file,
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { pointer: '', line, column: col, message: `invalid YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  let value: unknown = doc.toJS();
  if (options.flow !== undefined && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const own = value as { flow?: unknown; flowFile?: unknown };
    const wrong: FileIssue[] = [];
    if (own.flowFile !== undefined) wrong.push({ pointer: '/flowFile', ...locate(doc, lines, '/flowFile'), message: 'a suite kept with a flow tests that flow: "flowFile" is for test files' });
    if (own.flow !== undefined && own.flow !== options.flow) wrong.push({ pointer: '/flow', ...locate(doc, lines, '/flow'), message: `this suite is kept with flow "${options.flow}": leave "flow" out` });
    if (wrong.length > 0) throw new FlowTestFileError(file, wrong);
    value = { ...own, flow: options.flow };
  }
  if (!checkSuite(value)) {
    // An anyOf's branches each report a missing property: one message saying what is needed reads better.
    const errors = (checkSuite.errors ?? []).filter((e) => !/\/anyOf\/\d+\//.test(e.schemaPath));
    const issues = ajvIssues(errors).map((issue) => {
      const pointer = issue.pointer === '/' ? '' : issue.pointer;
      let message = issue.message;
      if (message === 'must match a schema in anyOf') {
        message = pointer === '' ? 'needs "flow" (a stored flow id) or "flowFile" (a flow file; "flow" then picks one of its flows)' : 'a mock needs "outputs" (messages to send) or "error"';
      }
      return { pointer, ...locate(doc, lines, pointer), message };
    });
    throw new FlowTestFileError(file, dedupe(issues));
  }
  const suite = value as unknown as FlowTestSuite;
  const problems: FileIssue[] = [];
  const names = new Set<string>();
  suite.cases.forEach((c, i) => {
    if (names.has(c.name)) problems.push({ pointer: `/cases/${i}/name`, ...locate(doc, lines, `/cases/${i}/name`), message: `case name "${c.name}" is used twice` });
    names.add(c.name);
  });
  if (problems.length > 0) throw new FlowTestFileError(file, problems);
  return suite;
}

function dedupe(issues: FileIssue[]): FileIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => !seen.has(`${i.pointer} ${i.message}`) && seen.add(`${i.pointer} ${i.message}`));
}
