/**
 * `flowcrew test [files...] --junit out.xml`: runs flow test files (flowtest/format.ts) in isolated sandboxes and
 * prints each case; the exit code is 0 only when every case passed, so CI can gate on it. A suite naming a stored
 * flow reads it (and the flows it calls) from the data directory as the CLI actor, through the services; a suite
 * naming a flowFile needs no data directory at all. Nothing is deployed to the real flows.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import type { FlowDocument } from '../flow/types.ts';
import { calledFlows, findTestFiles, loadSuiteFile, testDependencies, type LoadedSuite } from '../flowtest/files.ts';
import { toJUnit, type SuiteFailure } from '../flowtest/junit.ts';
import { pinnedOutputNode } from '../flowtest/pins.ts';
import { runSuite, type SuiteEnvironment, type SuiteResult } from '../flowtest/runner.ts';
import { NodeRegistry } from '../registry/registry.ts';
import { cliActor, withServices } from './local.ts';

interface TestOptions {
  junit?: string;
  dataDir?: string;
}

type Outcome = SuiteResult | SuiteFailure;

/** Run the files (or every *.flowtest.{json,yaml,yml} under the current directory); print, and write JUnit if asked. */
export async function runTestFiles(files: string[], options: TestOptions, print: (line: string) => void): Promise<Outcome[]> {
  const paths = files.length > 0 ? files.map((f) => path.resolve(f)) : await findTestFiles(process.cwd());
  if (paths.length === 0) throw new Error('no flow test files given and none (*.flowtest.json, *.flowtest.yaml) found under the current directory');
  const outcomes: Outcome[] = [];
  const loaded: LoadedSuite[] = [];
  for (const file of paths) {
    try {
      loaded.push(await loadSuiteFile(file));
    } catch (error) {
      outcomes.push({ name: path.basename(file), file, error: (error as Error).message });
    }
  }
  const config = loadConfig(process.env, { ...(options.dataDir ? { dataDir: path.resolve(options.dataDir) } : {}), logLevel: 'warn' });
  const fromFiles = loaded.filter((l) => l.flow);
  const stored = loaded.filter((l) => !l.flow);
  if (fromFiles.length > 0) {
    const registry = new NodeRegistry();
    await registry.loadPackagesIn(config.nodesDir, 'workspace');
    await registry.loadUserDirectory(config.userNodesDir);
    registry.register([pinnedOutputNode], 'flowcrew-flowtest');
    for (const l of fromFiles) {
      const byId = new Map(l.others.map((f) => [f.id, f]));
      const env: SuiteEnvironment = { registry, dependencies: (flow) => calledFlows(flow, async (id) => byId.get(id)) };
      outcomes.push(await runOne(l, l.flow!, env));
    }
  }
  if (stored.length > 0) {
    const actor = cliActor();
    await withServices(config, async (services, runtime) => {
      const lookup = async (id: string): Promise<FlowDocument | undefined> => services.flows.export(actor, id).catch(() => undefined);
      const env: SuiteEnvironment = {
        registry: runtime.registry,
        credentials: (id) => runtime.vault.resolve(id),
        dependencies: (flow) => testDependencies(flow, lookup, runtime.subflows),
      };
      for (const l of stored) {
        const flow = await lookup(l.suite.flow!);
        outcomes.push(flow ? await runOne(l, flow, env) : { name: path.basename(l.file), file: l.file, error: `${l.file}: flow "${l.suite.flow}" is not in the data directory (${config.dataDir})` });
      }
    });
  }
  // Report in the order the files were given.
  outcomes.sort((a, b) => paths.indexOf(a.file!) - paths.indexOf(b.file!));
  for (const o of outcomes) printOutcome(o, print);
  if (options.junit) await writeFile(options.junit, toJUnit(outcomes));
  return outcomes;
}

async function runOne(l: LoadedSuite, flow: FlowDocument, env: SuiteEnvironment): Promise<Outcome> {
  try {
    return await runSuite(l.suite, flow, env, { file: l.file, name: l.suite.name ?? path.basename(l.file) });
  } catch (error) {
    return { name: path.basename(l.file), file: l.file, error: `${l.file}: ${(error as Error).message}` };
  }
}

function printOutcome(o: Outcome, print: (line: string) => void): void {
  if ('error' in o) {
    print(`ERROR ${o.file ?? o.name}\n${indent(o.error)}`);
    return;
  }
  print(`${o.passed ? 'PASS' : 'FAIL'} ${o.name} (flow ${o.flowId} v${o.flowVersion}, ${o.durationMs} ms)`);
  for (const c of o.cases) {
    print(`  ${c.passed ? 'ok  ' : 'FAIL'} ${c.name}`);
    if (c.error) print(indent(c.error, 8));
    for (const a of c.assertions.filter((x) => !x.passed)) print(indent(`${a.label}: ${a.message ?? 'failed'}`, 8));
  }
}

const indent = (text: string, n = 2) => text.split('\n').map((l) => `${' '.repeat(n)}${l}`).join('\n');

/** The last line and the exit code: 0 only when every case of every file passed (a file that errored counts as failed). */
export function summary(outcomes: Outcome[]): { line: string; exitCode: number } {
  const cases = outcomes.flatMap((o) => ('error' in o ? [{ passed: false }] : o.cases));
  const failed = cases.filter((c) => !c.passed).length;
  return { line: `${cases.length - failed} passed, ${failed} failed or errored, ${outcomes.length} file(s)`, exitCode: failed === 0 ? 0 : 1 };
}

export function registerTestCommand(program: Command): void {
  program
    .command('test [files...]')
    .description('run flow test files (default: every *.flowtest.{json,yaml,yml} below the current directory) in isolated sandboxes')
    .option('--junit <file>', 'write the results as JUnit XML (for CI)')
    .option('-d, --data-dir <dir>', 'data directory of the stored flows that test files name with "flow"')
    .action(async (files: string[], opts: TestOptions) => {
      const outcomes = await runTestFiles(files, opts, (line) => process.stdout.write(`${line}\n`));
      const { line, exitCode } = summary(outcomes);
      process.stdout.write(`\n${line}\n`);
      process.exitCode = exitCode;
    });
}
