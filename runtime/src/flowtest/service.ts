/**
 * Flow tests as an actor may read, save and run them (the editor's test panel). The suite is kept with the flow
 * (store.ts); a run tests the flow's saved revision in isolated sandboxes (runner.ts) with the flows and library
 * sub-flows it calls, and answers per case with per-node marks for the canvas. The real flow is never redeployed.
 */
import { ProblemError, notFound } from '../errors.ts';
import type { FlowDocument } from '../flow/types.ts';
import type { Actor } from '../identity/actor.ts';
import type { Runtime } from '../runtime.ts';
import { authorize } from '../services/access.ts';
import type { AuditService } from '../services/audit.ts';
import type { StoredFlow } from '../storage/types.ts';
import { testDependencies } from './files.ts';
import { FlowTestFileError, parseSuite, type FlowTestSuite } from './format.ts';
import { runSuite, type SuiteResult } from './runner.ts';
import { FlowTestStore, type StoredSuite } from './store.ts';

/** Suites are typed in the editor, not bulk data. */
const MAX_SUITE_BYTES = 1_000_000;

export class FlowTestService {
  readonly store: FlowTestStore;

  constructor(
    private readonly runtime: Runtime,
    private readonly audit: AuditService,
  ) {
    const driver = (runtime.storage as { driver?: ConstructorParameters<typeof FlowTestStore>[0] }).driver;
    if (!driver) throw new Error('flow tests need the SQL storage (SQLite or PostgreSQL)');
    this.store = new FlowTestStore(driver);
  }

  private async flow(actor: Actor, flowId: string, permission: 'flow:read' | 'flow:write' | 'run:start'): Promise<StoredFlow> {
    const stored = await this.runtime.storage.getFlow(flowId);
    if (!stored) throw notFound(`flow "${flowId}"`);
    authorize(actor, permission, stored.projectId, 'flow:read', `flow "${flowId}"`);
    return stored;
  }

  /** The flow's suite; an empty one when none was saved. */
  async get(actor: Actor, flowId: string): Promise<StoredSuite> {
    await this.flow(actor, flowId, 'flow:read');
    return (await this.store.get(flowId)) ?? { flowId, suite: { flow: flowId, cases: [] }, updatedAt: 0, updatedBy: null };
  }

  /**
   * Save the suite: as data (`{ cases: [...] }`) or as text (`{ source }`: YAML or JSON, as `flowcrew test` reads a
   * file; the text is kept as typed). Checked like a test file; 422 with pointers (and line/column) when not valid.
   */
  async set(actor: Actor, flowId: string, body: unknown): Promise<StoredSuite> {
    const stored = await this.flow(actor, flowId, 'flow:write');
    const source = sourceOf(body);
    const suite = source !== undefined ? this.checkSource(source, flowId) : this.check(body, flowId);
    const saved = await this.store.set(flowId, suite, actor.name, undefined, source);
    await this.audit.record(actor, 'flow.tests.save', { type: 'flow', id: flowId }, stored.projectId, { cases: suite.cases.length });
    return saved;
  }

  /** Run the saved suite, or unsaved edits (`body.suite` as data, `body.source` as text), against the flow's saved revision. */
  async run(actor: Actor, flowId: string, body: { suite?: unknown; source?: string; case?: string } = {}): Promise<SuiteResult> {
    const stored = await this.flow(actor, flowId, 'run:start');
    if (body.suite !== undefined && body.source !== undefined) throw new ProblemError(400, 'Invalid tests', 'give the suite as "suite" (data) or "source" (text), not both');
    let suite =
      body.source !== undefined ? this.checkSource(body.source, flowId) : body.suite === undefined ? (await this.store.get(flowId))?.suite : this.check(body.suite, flowId);
    if (!suite || suite.cases.length === 0) throw new ProblemError(422, 'No tests', `flow "${flowId}" has no test cases: add some first`);
    if (body.case !== undefined) {
      const only = suite.cases.filter((c) => c.name === body.case);
      if (only.length === 0) throw new ProblemError(422, 'No such case', `flow "${flowId}" has no test case "${body.case}"`, [{ pointer: '/case', message: 'no case of that name' }]);
      suite = { ...suite, cases: only };
    }
    const lookup = async (id: string): Promise<FlowDocument | undefined> => {
      const called = await this.runtime.storage.getFlow(id);
      // Called flows the actor cannot read are left out: the call then fails in the test like an undeployed flow.
      return called && canRead(actor, called) ? called.flow : undefined;
    };
    try {
      return await runSuite(suite, stored.flow, {
        registry: this.runtime.registry,
        credentials: (id) => this.runtime.vault.resolve(id),
        log: this.runtime.log,
        // The sandbox copy keeps the flow's id, so it reads its project's variables of this instance.
        environment: (this.runtime as { variables?: import('../variables/index.ts').Variables }).variables?.environment,
        dependencies: (flow) => testDependencies(flow, lookup, this.runtime.subflows),
      });
    } catch (error) {
      throw new ProblemError(422, 'Invalid tests', (error as Error).message);
    }
  }

  /** A suite typed as text: parsed by the one parser `flowcrew test` uses, JSON when it starts as JSON, else YAML. */
  private checkSource(source: string, flowId: string): FlowTestSuite {
    if (source.length > MAX_SUITE_BYTES) throw new ProblemError(413, 'Tests too large', `the test suite is ${source.length} characters; at most ${MAX_SUITE_BYTES} are kept`);
    const file = /^\s*[{[]/.test(source) ? 'tests.json' : 'tests.yaml';
    try {
      return parseSuite(source, file, { flow: flowId });
    } catch (error) {
      if (error instanceof FlowTestFileError) {
        const issues = error.issues.map((i) => ({ pointer: i.pointer || '/', message: `line ${i.line}, column ${i.column}: ${i.message}` }));
        throw new ProblemError(422, 'Invalid tests', `the test suite has problems (${file === 'tests.json' ? 'JSON' : 'YAML'})`, issues);
      }
      throw error;
    }
  }

  private check(body: unknown, flowId: string): FlowTestSuite {
    const text = JSON.stringify({ ...(body as object), flow: flowId });
    if (text.length > MAX_SUITE_BYTES) throw new ProblemError(413, 'Tests too large', `the test suite is ${text.length} bytes; at most ${MAX_SUITE_BYTES} are kept`);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ProblemError(400, 'Invalid tests', 'the body must be a test suite object: { cases: [...] }');
    if ((body as { flowFile?: unknown }).flowFile !== undefined) throw new ProblemError(422, 'Invalid tests', 'a stored suite tests its own flow: "flowFile" is for test files', [{ pointer: '/flowFile', message: 'not allowed here' }]);
    try {
      return parseSuite(text, 'tests.json');
    } catch (error) {
      if (error instanceof FlowTestFileError) {
        throw new ProblemError(422, 'Invalid tests', 'the test suite has problems', error.issues.map((i) => ({ pointer: i.pointer || '/', message: i.message })));
      }
      throw error;
    }
  }
}

/** The text of a body `{ source: "..." }` (the suite as typed), or undefined for a suite sent as data. */
function sourceOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || !('source' in body)) return undefined;
  const { source, ...rest } = body as { source: unknown };
  if (typeof source !== 'string') throw new ProblemError(400, 'Invalid tests', '"source" must be the suite\'s text (YAML or JSON)', [{ pointer: '/source', message: 'must be a string' }]);
  if (Object.keys(rest).length > 0) throw new ProblemError(400, 'Invalid tests', 'a body with "source" has nothing else: the text is the whole suite', [{ pointer: `/${Object.keys(rest)[0]}`, message: 'not allowed with "source"' }]);
  return source;
}

function canRead(actor: Actor, flow: StoredFlow): boolean {
  try {
    authorize(actor, 'flow:read', flow.projectId, 'flow:read', 'flow');
    return true;
  } catch {
    return false;
  }
}
