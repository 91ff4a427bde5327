/**
 * Test files on disk (`flowcrew test`): finding them, reading one with the flow file it names, and the flows a flow
 * calls (found by the `flowId` they name in their props, as subflow-call and link-call do, not by node type names).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FlowDocument } from '../flow/types.ts';
import { FlowTestFileError, parseSuite, type FlowTestSuite } from './format.ts';

export const TEST_FILE = /\.flowtest\.(json|ya?ml)$/;
const SKIP_DIRS = new Set(['node_modules', '.git', '.flowcrew', '.cache']);

/** Test files under `dir` (recursively, skipping node_modules and .git), sorted. */
export async function findTestFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      if (entry.isDirectory() && !SKIP_DIRS.has(entry.name)) await walk(path.join(at, entry.name));
      else if (entry.isFile() && TEST_FILE.test(entry.name)) found.push(path.join(at, entry.name));
    }
  };
  await walk(dir);
  return found.sort();
}

export interface LoadedSuite {
  file: string;
  suite: FlowTestSuite;
  /** The flow under test when the suite names a flowFile (else it is a stored flow: `suite.flow`). */
  flow?: FlowDocument;
  /** The other flows of that file: the flows it calls are found among them. */
  others: FlowDocument[];
}

async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
}

/** Read and check a test file, and its flow file when it names one. Throws FlowTestFileError with line/column. */
export async function loadSuiteFile(file: string): Promise<LoadedSuite> {
  const suite = parseSuite(await readText(file), file);
  if (!suite.flowFile) return { file, suite, others: [] };
  const flowPath = path.resolve(path.dirname(file), suite.flowFile);
  const text = await readText(flowPath);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const at = /position (\d+)/.exec((error as Error).message);
    const before = text.slice(0, at ? Number(at[1]) : 0).split('\n');
    throw new FlowTestFileError(flowPath, [{ pointer: '', line: before.length, column: before.at(-1)!.length + 1, message: `invalid JSON: ${(error as Error).message.replace(/ in JSON at position \d+.*$/, '')}` }]);
  }
  const flows = (Array.isArray(parsed) ? parsed : [parsed]) as FlowDocument[];
  if (flows.some((f) => !f || typeof f !== 'object' || typeof f.id !== 'string' || !Array.isArray(f.nodes))) {
    throw new Error(`${flowPath} is not a Flowcrew flow file (a flow document or an array of them, as "flowcrew export" writes)`);
  }
  const flow = suite.flow ? flows.find((f) => f.id === suite.flow) : flows[0];
  if (!flow) throw new Error(`${flowPath} holds no flow "${suite.flow}" (it has ${flows.map((f) => `"${f.id}"`).join(', ')})`);
  return { file, suite, flow, others: flows.filter((f) => f !== flow) };
}

/** Ids of the flows a flow's nodes call: every string `flowId` found in node props. */
export function calledFlowIds(flow: FlowDocument): string[] {
  const ids = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        if (key === 'flowId' && typeof v === 'string' && v !== flow.id) ids.add(v);
        else visit(v);
      }
    }
  };
  for (const node of flow.nodes) if (!node.disabled) visit(node.props);
  return [...ids];
}

/** The flows `flow` calls, directly or through others, found with `lookup`; ids it cannot find are left out. */
export async function calledFlows(flow: FlowDocument, lookup: (id: string) => Promise<FlowDocument | undefined>): Promise<FlowDocument[]> {
  const found = new Map<string, FlowDocument>();
  const queue = calledFlowIds(flow);
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (found.has(id) || id === flow.id) continue;
    const called = await lookup(id);
    if (!called) continue;
    found.set(id, called);
    queue.push(...calledFlowIds(called));
  }
  return [...found.values()];
}

/** Everything a flow under test needs deployed beside it: the flows it calls and the library sub-flow versions all of them use. */
export async function testDependencies(flow: FlowDocument, lookup: (id: string) => Promise<FlowDocument | undefined>, library?: { hiddenFlowsFor(flow: FlowDocument): FlowDocument[] }): Promise<FlowDocument[]> {
  const called = await calledFlows(flow, lookup);
  const all = [...called, ...[flow, ...called].flatMap((f) => library?.hiddenFlowsFor(f) ?? [])];
  return all.filter((f, i) => all.findIndex((o) => o.id === f.id) === i);
}
