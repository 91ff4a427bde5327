/**
 * Evaluation datasets (`flowcrew eval`): a flow, a list of inputs, and for each the properties its run must have,
 * written as JSONata checks (true = passed) or JSON Schemas over a JSONata path. Scores are the share of checks passed,
 * per case and for the whole dataset; n8n keeps metric-based evaluations for its paid tier.
 *
 * What a check sees: `status` and `error` of the run, `output` (the last message a node of the run sent: the flow's
 * answer), `outputs` (every message sent, in order) and `run` (the run with its invocations).
 */
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { createSchemaValidator } from '@flowcrew/sdk/schema';
import { parse as parseYaml } from 'yaml';
import { compileJsonata, type CompiledExpression } from '@flowcrew/sdk/util';
import type { ContextStore } from '@flowcrew/sdk';
import { ajvIssues } from '../flow/validate.ts';
import type { InvocationRecord, RunRecord } from '../storage/types.ts';

export interface EvalCheck {
  name?: string;
  /** JSONata over the run's view; a truthy result passes. */
  jsonata?: string;
  /** JSONata path of the value `schema` checks (default: output.payload). */
  path?: string;
  schema?: Record<string, unknown>;
}

export interface EvalCase {
  name: string;
  /** The message the run starts with, e.g. { payload: { topic: 'pgvector' } }. */
  input: Record<string, unknown>;
  /** Expected run status (default 'succeeded'): counted as one check. */
  status?: RunRecord['status'];
  checks: EvalCheck[];
}

export interface EvalDataset {
  /** Id of a stored flow, or of the flow in `flowFile`. */
  flow?: string;
  /** A flow file (Flowcrew JSON) imported into the data directory before the cases run. */
  flowFile?: string;
  /** Trigger node to start at (default: the flow's manual trigger). */
  node?: string;
  timeoutMs?: number;
  cases: EvalCase[];
}

export interface CheckResult {
  name: string;
  passed: boolean;
  /** Why it failed (the value found, the schema's complaints, the expression's error). */
  detail?: string;
}

export interface CaseResult {
  name: string;
  runId: string;
  status: string;
  score: number;
  checks: CheckResult[];
}

/** Read and check a dataset file's text (JSON or YAML); errors name the case and field. */
export function parseDataset(text: string, file: string): EvalDataset {
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new Error(`${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
  const d = doc as Partial<EvalDataset> | null;
  if (!d || typeof d !== 'object') throw new Error(`${file}: expected an object with flow (or flowFile) and cases`);
  if (!d.flow && !d.flowFile) throw new Error(`${file}: say which flow to evaluate (flow: <id>, or flowFile: <path>)`);
  if (!Array.isArray(d.cases) || d.cases.length === 0) throw new Error(`${file}: cases must be a non-empty list`);
  d.cases.forEach((c, i) => {
    const where = `${file}: cases[${i}]`;
    if (!c || typeof c !== 'object') throw new Error(`${where} must be an object`);
    if (typeof c.name !== 'string' || !c.name) throw new Error(`${where}.name is required`);
    if (c.input !== undefined && (typeof c.input !== 'object' || c.input === null || Array.isArray(c.input))) throw new Error(`${where} ("${c.name}").input must be a message object, e.g. {payload: ...}`);
    c.input ??= {};
    c.checks ??= [];
    if (!Array.isArray(c.checks)) throw new Error(`${where} ("${c.name}").checks must be a list`);
    c.checks.forEach((check, j) => {
      if (!check || (typeof check.jsonata !== 'string' && (typeof check.schema !== 'object' || check.schema === null))) {
        throw new Error(`${where} ("${c.name}").checks[${j}] needs a jsonata expression or a schema`);
      }
    });
  });
  return d as EvalDataset;
}

const ajv = createSchemaValidator();
const NO_CONTEXT: ContextStore = { get: () => undefined, set: () => undefined, keys: () => [] };

/** A dataset's checks compiled once (a bad expression or schema fails before any run starts). */
export function compileChecks(dataset: EvalDataset): Array<Array<(view: RunView) => Promise<CheckResult>>> {
  return dataset.cases.map((c) =>
    c.checks.map((check, j) => {
      const name = check.name ?? check.jsonata ?? `schema of ${check.path ?? 'output.payload'}`;
      const where = `case "${c.name}" check ${j + 1} (${name})`;
      let expression: CompiledExpression;
      let validate: ValidateFunction | undefined;
      try {
        expression = compileJsonata(check.jsonata ?? check.path ?? 'output.payload', { flow: NO_CONTEXT, global: NO_CONTEXT });
        if (check.schema) validate = ajv.compile(check.schema);
      } catch (error) {
        throw new Error(`${where}: ${(error as Error).message}`);
      }
      return async (view: RunView): Promise<CheckResult> => {
        let value: unknown;
        try {
          value = await expression.evaluate(view);
        } catch (error) {
          return { name, passed: false, detail: (error as Error).message };
        }
        if (validate) {
          const ok = validate(value);
          return ok ? { name, passed: true } : { name, passed: false, detail: ajvIssues(validate.errors).map((i) => `${i.pointer || '/'} ${i.message}`).join('; ') };
        }
        return value ? { name, passed: true } : { name, passed: false, detail: `got ${JSON.stringify(value)?.slice(0, 200) ?? 'nothing'}` };
      };
    }),
  );
}

export interface RunView {
  status: string;
  error: string | null;
  output: unknown;
  outputs: unknown[];
  run: RunRecord & { invocations: InvocationRecord[] };
}

/** What checks see of a finished run. */
export function runView(run: RunRecord & { invocations: InvocationRecord[] }): RunView {
  const sent = [...run.invocations]
    .filter((i) => i.outputs?.length)
    .sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0) || a.seq - b.seq)
    .flatMap((i) => i.outputs!.map((o) => o.msg));
  return { status: run.status, error: run.error, output: sent.at(-1), outputs: sent, run };
}

export async function scoreCase(c: EvalCase, checks: Array<(view: RunView) => Promise<CheckResult>>, run: RunRecord & { invocations: InvocationRecord[] }): Promise<CaseResult> {
  const view = runView(run);
  const expected = c.status ?? 'succeeded';
  const results: CheckResult[] = [
    { name: `status is ${expected}`, passed: run.status === expected, ...(run.status === expected ? {} : { detail: `run ${run.status}${run.error ? `: ${run.error}` : ''}` }) },
  ];
  for (const check of checks) results.push(await check(view));
  const score = results.filter((r) => r.passed).length / results.length;
  return { name: c.name, runId: run.id, status: run.status, score: Math.round(score * 1000) / 1000, checks: results };
}
