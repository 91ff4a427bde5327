/**
 * Runs a flow test suite: per case, the flow with its mocks applied (withPinnedOutputs) is deployed with the flows it
 * calls in a fresh sandbox (sandbox.ts), the input is delivered, and the assertions are checked on what the run
 * recorded. A result carries per-node marks so the editor can draw pass/fail on the canvas.
 */
import { envReader } from '@flowcrew/sdk/util';
import type { FlowDocument } from '../flow/types.ts';
import { createLogger } from '../logging/logger.ts';
import { flowVariablesOnly } from '../variables/flow-env.ts';
import { compileSuite, type AssertionResult, type CaseCheck } from './assertions.ts';
import type { FlowTestSuite } from './format.ts';
import { withPinnedOutputs } from './pins.ts';
import { TestSandbox, type SandboxSource } from './sandbox.ts';

export const DEFAULT_CASE_TIMEOUT_MS = 10_000;

/** What the canvas shows on a node after a case. */
export interface NodeMark {
  /** Invocations of the node in the run, and how many failed. */
  ran: number;
  failed: number;
  /** Replaced by a mock in this case. */
  mocked: boolean;
  /** Outcome of the assertions on this node, when there were any. */
  assertions?: 'passed' | 'failed';
}

export interface CaseResult {
  name: string;
  passed: boolean;
  durationMs: number;
  /** The sandbox run's final status; null when the case could not start. */
  runStatus: string | null;
  /** Why the case could not run or finish (deploy problem, bad mock, timeout), or the unexpected run error. */
  error?: string;
  assertions: AssertionResult[];
  nodes: Record<string, NodeMark>;
}

export interface SuiteResult {
  name: string;
  file?: string;
  flowId: string;
  flowVersion: number;
  passed: boolean;
  durationMs: number;
  cases: CaseResult[];
}

export interface SuiteEnvironment extends SandboxSource {
  /** The flows `flow` calls (sub-flows), deployed beside it in each sandbox. */
  dependencies?(flow: FlowDocument): Promise<FlowDocument[]>;
}

/** Run every case of `suite` against `flow`. Throws only when the suite's own assertions do not compile. */
export async function runSuite(suite: FlowTestSuite, flow: FlowDocument, env: SuiteEnvironment, meta: { name?: string; file?: string } = {}): Promise<SuiteResult> {
  const checks = compileSuite(suite);
  const started = Date.now();
  const dependencies = (await env.dependencies?.(flow)) ?? [];
  const cases: CaseResult[] = [];
  for (const [i, c] of suite.cases.entries()) cases.push(await runCase(suite, i, flow, dependencies, checks[i]!, env));
  return {
    name: meta.name ?? suite.name ?? flow.name,
    ...(meta.file ? { file: meta.file } : {}),
    flowId: flow.id,
    flowVersion: flow.version,
    passed: cases.every((c) => c.passed),
    durationMs: Date.now() - started,
    cases,
  };
}

async function runCase(suite: FlowTestSuite, index: number, flow: FlowDocument, dependencies: FlowDocument[], check: CaseCheck, env: SuiteEnvironment): Promise<CaseResult> {
  const c = suite.cases[index]!;
  const started = Date.now();
  const mocks = { ...suite.mocks, ...c.mocks };
  const nodes: Record<string, NodeMark> = Object.fromEntries(flow.nodes.map((n) => [n.id, { ran: 0, failed: 0, mocked: n.id in mocks }]));
  const failedCase = (error: string, runStatus: string | null = null): CaseResult => ({ name: c.name, passed: false, durationMs: Date.now() - started, runStatus, error, assertions: [], nodes });
  if (!nodes[c.input.node]) return failedCase(`input node "${c.input.node}" is not in flow "${flow.id}"`);
  const unknown = (c.expect ?? []).find((a) => !nodes[a.node]);
  if (unknown) return failedCase(`expect names node "${unknown.node}", which is not in flow "${flow.id}"`);
  let sandbox: TestSandbox | undefined;
  try {
    sandbox = await TestSandbox.open({ ...env, environment: withSuiteEnv(env.environment ?? flowVariablesOnly({ log: env.log ?? createLogger({ level: 'silent' }) }), suite.env) }, [withPinnedOutputs(flow, mocks), ...dependencies]);
    const timeoutMs = c.timeoutMs ?? suite.timeoutMs ?? DEFAULT_CASE_TIMEOUT_MS;
    const result = await sandbox.run(flow.id, c.input.node, c.input.msg ?? {}, { port: c.input.port, timeoutMs });
    for (const inv of result.invocations) {
      const mark = nodes[inv.nodeId];
      if (!mark) continue;
      mark.ran++;
      if (inv.status === 'failed') mark.failed++;
    }
    if (result.timedOut) return failedCase(`the run did not finish within ${timeoutMs} ms and was cancelled`, result.run.status);
    const assertions = await check(result);
    const expected = c.status ?? 'succeeded';
    if (result.run.status !== expected) {
      assertions.unshift({ label: 'run status', passed: false, message: `run ${result.run.status}${result.run.error ? `: ${result.run.error}` : ''}, expected ${expected}` });
    }
    for (const a of assertions) {
      if (!a.node || !nodes[a.node]) continue;
      nodes[a.node]!.assertions = !a.passed || nodes[a.node]!.assertions === 'failed' ? 'failed' : 'passed';
    }
    return { name: c.name, passed: assertions.every((a) => a.passed), durationMs: Date.now() - started, runStatus: result.run.status, assertions, nodes };
  } catch (error) {
    return failedCase((error as Error).message);
  } finally {
    await sandbox?.close();
  }
}

/** The suite's `env` over the instance's variables: a test pins the values it depends on. */
function withSuiteEnv(base: SuiteEnvironment['environment'], values: Record<string, string> | undefined): SuiteEnvironment['environment'] {
  if (!values) return base;
  const own = envReader(values);
  return async (flow) => {
    const inner = await base?.(flow);
    return { env: { get: (name) => own.get(name) ?? inner?.env.get(name), value: (name) => own.value(name) ?? inner?.env.value(name) }, secrets: inner?.secrets ?? [] };
  };
}
