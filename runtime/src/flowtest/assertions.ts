/**
 * Assertions of a flow test case, compiled once (a bad JSONata expression or JSON Schema is a file error before any
 * case runs) and evaluated on the sandbox run's recorded invocations: a node's output messages per port or the
 * messages it received, and the reply. Each failure says what was expected, what came, and where.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ContextStore } from '@flowcrew/sdk';
import { compileJsonata, type CompiledExpression } from '@flowcrew/sdk/util';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { ajvIssues } from '../flow/validate.ts';
import { createUserSchemaValidator } from './user-schemas.ts';
import type { InvocationRecord } from '../storage/types.ts';
import type { FlowTestSuite, NodeAssertion, ReplyAssertion } from './format.ts';
import type { SandboxRun } from './sandbox.ts';

export interface AssertionResult {
  /** Short label, e.g. `mark output[0] match`. */
  label: string;
  node?: string;
  passed: boolean;
  /** Why it failed. */
  message?: string;
}

const ajv = createUserSchemaValidator();
const NO_CONTEXT: ContextStore = { get: () => undefined, set: () => undefined, keys: () => [] };
const show = (value: unknown) => (value === undefined ? 'nothing' : JSON.stringify(value)?.slice(0, 300));

interface Checks {
  match?: unknown;
  equals?: unknown;
  schema?: ValidateFunction;
  jsonata?: CompiledExpression;
}

/** A compiled case: evaluates its assertions on a finished run. */
export type CaseCheck = (result: SandboxRun) => Promise<AssertionResult[]>;

/** Compile every case's assertions; throws with the case and assertion named when an expression or schema is bad. */
export function compileSuite(suite: FlowTestSuite): CaseCheck[] {
  return suite.cases.map((c, i) => {
    const compile = (spec: { schema?: Record<string, unknown>; jsonata?: string; match?: unknown; equals?: unknown }, where: string): Checks => {
      try {
        return {
          match: spec.match,
          equals: spec.equals,
          schema: spec.schema ? ajv.compile(spec.schema) : undefined,
          jsonata: spec.jsonata ? compileJsonata(spec.jsonata, { flow: NO_CONTEXT, global: NO_CONTEXT }) : undefined,
        };
      } catch (error) {
        throw new Error(`case "${c.name}" (/cases/${i}) ${where}: ${(error as Error).message}`);
      }
    };
    const nodeChecks = (c.expect ?? []).map((a, j) => ({ a, checks: compile(a, `expect[${j}] on node "${a.node}"`) }));
    const replyChecks = c.reply ? compile(c.reply, 'reply') : undefined;
    return async (result) => {
      const out: AssertionResult[] = [];
      for (const { a, checks } of nodeChecks) out.push(...(await nodeAssertion(a, checks, result.invocations)));
      if (c.reply) out.push(...(await replyAssertion(c.reply, replyChecks!, result)));
      return out;
    };
  });
}

function messagesOf(a: NodeAssertion, invocations: InvocationRecord[]): unknown[] {
  const mine = invocations.filter((i) => i.nodeId === a.node);
  if (a.on === 'input') return mine.filter((i) => i.input !== null && i.input !== undefined).map((i) => i.input);
  return mine.flatMap((i) => (i.outputs ?? []).filter((o) => a.port === undefined || o.port === a.port).map((o) => o.msg));
}

async function nodeAssertion(a: NodeAssertion, checks: Checks, invocations: InvocationRecord[]): Promise<AssertionResult[]> {
  const mine = invocations.filter((i) => i.nodeId === a.node);
  const what = `${a.node} ${a.on ?? 'output'}${a.port !== undefined ? ` port ${a.port}` : ''}`;
  const results: AssertionResult[] = [];
  const add = (label: string, passed: boolean, message?: string) => results.push({ label: `${what} ${label}`, node: a.node, passed, ...(passed ? {} : { message }) });
  if (a.called !== undefined) add(a.called ? 'called' : 'not called', (mine.length > 0) === a.called, `ran ${mine.length} time(s)`);
  if (a.error !== undefined) {
    const failed = mine.find((i) => i.status === 'failed');
    if (a.error === false) add('no error', !failed, `failed: ${failed?.error}`);
    else if (!failed) add('error', false, 'the node did not fail');
    else add('error', typeof a.error !== 'string' || (failed.error ?? '').includes(a.error), `error was "${failed.error}", expected it to contain "${a.error}"`);
  }
  const messages = messagesOf(a, invocations);
  if (a.count !== undefined) add('count', messages.length === a.count, `${messages.length} message(s), expected ${a.count}`);
  const hasChecks = checks.match !== undefined || checks.equals !== undefined || checks.schema || checks.jsonata;
  if (!hasChecks) return results;
  const picked = a.every ? messages.map((m, i) => [i, m] as const) : [[a.message ?? 0, messages[a.message ?? 0]] as const];
  if (a.every && picked.length === 0) add('every message', false, 'no message to check');
  for (const [index, msg] of picked) {
    const label = `[${index}]`;
    if (msg === undefined) {
      add(label, false, `no message ${index} (the node ${mine.length === 0 ? 'never ran' : `sent ${messages.length}`})`);
      continue;
    }
    for (const r of await runChecks(checks, msg)) add(`${label} ${r.label}`, r.passed, r.message);
  }
  return results;
}

async function replyAssertion(spec: ReplyAssertion, checks: Checks, result: SandboxRun): Promise<AssertionResult[]> {
  if (!result.reply) return [{ label: 'reply', passed: false, message: 'the run did not reply' }];
  const out: AssertionResult[] = [];
  const status = result.reply.status ?? 200;
  if (spec.status !== undefined) out.push({ label: 'reply status', passed: status === spec.status, ...(status === spec.status ? {} : { message: `status ${status}, expected ${spec.status}` }) });
  for (const r of await runChecks(checks, result.reply.body)) out.push({ label: `reply body ${r.label}`, passed: r.passed, ...(r.message ? { message: r.message } : {}) });
  return out;
}

async function runChecks(checks: Checks, value: unknown): Promise<Array<{ label: string; passed: boolean; message?: string }>> {
  const out: Array<{ label: string; passed: boolean; message?: string }> = [];
  if (checks.equals !== undefined) {
    const actual = withoutMsgId(value);
    const ok = isDeepStrictEqual(actual, checks.equals);
    out.push({ label: 'equals', passed: ok, ...(ok ? {} : { message: `expected ${show(checks.equals)}, got ${show(actual)}` }) });
  }
  if (checks.match !== undefined) {
    const problem = mismatch(checks.match, value, '');
    out.push({ label: 'match', passed: !problem, ...(problem ? { message: problem } : {}) });
  }
  if (checks.schema) {
    const ok = checks.schema(structuredClone(value));
    out.push({ label: 'schema', passed: ok, ...(ok ? {} : { message: ajvIssues(checks.schema.errors).map((i) => `${i.pointer} ${i.message}`).join('; ') }) });
  }
  if (checks.jsonata) {
    let got: unknown;
    let failure: string | undefined;
    try {
      got = await checks.jsonata.evaluate(value);
    } catch (error) {
      failure = (error as Error).message;
    }
    const ok = failure === undefined && Boolean(got);
    out.push({ label: 'jsonata', passed: ok, ...(ok ? {} : { message: failure ?? `${checks.jsonata.source} gave ${show(got)}` }) });
  }
  return out;
}

/** The runtime's bookkeeping on a message (its id, the reply handle of executor/replies.ts) is not compared. */
function withoutMsgId(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const { _msgid: _m, _replyTo: _r, ...rest } = value as Record<string, unknown>;
  return rest;
}

/** The first place `actual` does not contain `expected` (objects: a subset of properties; arrays: element-wise), or undefined. */
export function mismatch(expected: unknown, actual: unknown, at: string): string | undefined {
  if (expected !== null && typeof expected === 'object') {
    if (Array.isArray(expected)) {
      if (!Array.isArray(actual)) return `${at || '/'}: expected an array, got ${show(actual)}`;
      if (actual.length !== expected.length) return `${at || '/'}: expected ${expected.length} item(s), got ${actual.length}`;
      for (let i = 0; i < expected.length; i++) {
        const m = mismatch(expected[i], actual[i], `${at}/${i}`);
        if (m) return m;
      }
      return undefined;
    }
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return `${at || '/'}: expected an object, got ${show(actual)}`;
    for (const [key, value] of Object.entries(expected)) {
      const m = mismatch(value, (actual as Record<string, unknown>)[key], `${at}/${key}`);
      if (m) return m;
    }
    return undefined;
  }
  return isDeepStrictEqual(expected, actual) ? undefined : `${at || '/'}: expected ${show(expected)}, got ${show(actual)}`;
}
