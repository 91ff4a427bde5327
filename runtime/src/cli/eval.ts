/**
 * `flowcrew eval <dataset>`: run a flow on each case of a dataset (eval-dataset.ts), as the CLI actor through the
 * services, score the expected properties, print them with the scores of the flow's earlier versions, and keep
 * them in the database (eval-store.ts: flow version, dataset, score, per-case checks).
 * The exit code says whether the dataset scored at least --min-score, so CI can gate on it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { cliActor, withServices } from './local.ts';
import { compileChecks, parseDataset, scoreCase, type CaseResult } from './eval-dataset.ts';
import { EvalStore, type EvalRecord } from './eval-store.ts';
import { evalToJUnit } from '../evals/junit.ts';

export type { EvalRecord } from './eval-store.ts';

async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
}


/** Run a dataset against the data directory's runtime; returns the record it stored. */
export async function runEvaluation(datasetFile: string, dataDir: string | undefined, log: (line: string) => void): Promise<EvalRecord> {
  const dataset = parseDataset(await readText(datasetFile), datasetFile);
  const checks = compileChecks(dataset);
  const config = loadConfig(process.env, { ...(dataDir ? { dataDir: path.resolve(dataDir) } : {}), logLevel: 'warn' });
  const actor = cliActor();
  return withServices(config, async (services, runtime) => {
    let flowId = dataset.flow;
    if (dataset.flowFile) {
      const doc = JSON.parse(await readText(path.resolve(path.dirname(datasetFile), dataset.flowFile))) as unknown;
      const imported = await services.flows.import(actor, doc, { deploy: true, replace: true });
      flowId = imported.flows.find((f) => !dataset.flow || f.id === dataset.flow)?.id;
      if (!flowId) throw new Error(`${dataset.flowFile} holds no flow "${dataset.flow}"`);
    }
    const flow = await services.flows.get(actor, flowId!);
    if (flow.deployedVersion === null) throw new Error(`flow "${flowId}" is not deployed: deploy it, or give the dataset a flowFile`);
    const cases: CaseResult[] = [];
    for (const [i, c] of dataset.cases.entries()) {
      const { runId } = await services.runs.start(actor, flowId!, { input: c.input, nodeId: dataset.node });
      await runtime.waitForRun(runId, dataset.timeoutMs ?? 120_000);
      const result = await scoreCase(c, checks[i]!, await services.runs.get(actor, runId));
      cases.push(result);
      log(`${result.score === 1 ? 'pass' : 'FAIL'}  ${c.name}  ${(result.score * 100).toFixed(0)}%${result.checks.filter((r) => !r.passed).map((r) => `\n      ✗ ${r.name}: ${r.detail ?? ''}`).join('')}`);
    }
    const score = Math.round((cases.reduce((sum, c) => sum + c.score, 0) / cases.length) * 1000) / 1000;
    const record: EvalRecord = { at: new Date().toISOString(), dataset: path.basename(datasetFile), flowId: flowId!, flowVersion: flow.deployedVersion, score, cases };
    const scores = EvalStore.of(runtime.storage);
    const history = await scores.history(flowId!);
    await scores.add(record);
    log(`flow ${flowId} v${flow.deployedVersion}: ${(score * 100).toFixed(1)}% over ${cases.length} case(s) of ${record.dataset}`);
    const earlier = new Map(history.filter((h) => h.dataset === record.dataset && h.flowVersion !== record.flowVersion).map((h) => [h.flowVersion, h.score]));
    for (const [version, s] of [...earlier].sort((a, b) => a[0] - b[0])) log(`  earlier: v${version} ${(s * 100).toFixed(1)}%`);
    return record;
  });
}

export function registerEvalCommands(program: Command): void {
  program
    .command('eval <dataset>')
    .description('run a flow on each case of a dataset (JSON or YAML), check the expected properties, print and keep the scores per flow version')
    .option('-d, --data-dir <dir>', 'data directory (default $FLOWCREW_DATA_DIR or ./.flowcrew)')
    .option('--min-score <score>', 'exit with 1 when the dataset scores below this (0 to 1)', '1')
    .option('-o, --output <file>', 'also write the evaluation as JSON')
    .option('--junit <file>', 'also write the evaluation as JUnit XML (a testcase per case) for CI test reports')
    .action(async (file: string, opts: { dataDir?: string; minScore: string; output?: string; junit?: string }) => {
      const min = Number(opts.minScore);
      if (!Number.isFinite(min) || min < 0 || min > 1) throw new Error(`--min-score must be a number from 0 to 1, not "${opts.minScore}"`);
      const record = await runEvaluation(file, opts.dataDir, (line) => process.stdout.write(`${line}\n`));
      if (opts.output) await writeFile(opts.output, `${JSON.stringify(record, null, 2)}\n`);
      if (opts.junit) await writeFile(opts.junit, evalToJUnit(record, min));
      process.exitCode = record.score >= min ? 0 : 1;
    });
}
