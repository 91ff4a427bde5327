/**
 * The `flowcrew` command: start | run | import | export | validate | users | credentials. Commands that read or
 * change stored data act as the system actor through the services (local.ts), audited like API calls.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { loadConfig } from '../config.ts';
import { ProblemError } from '../errors.ts';
import { isNodeRedExport } from '../flow/node-red.ts';
import { validateFlow } from '../flow/validate.ts';
import { NodeRegistry } from '../registry/registry.ts';
import { startServer } from '../server.ts';
import { cliActor, withServices } from './local.ts';
import { registerWorkerCommand } from './worker.ts';

async function readJsonFile(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

function describeError(error: unknown): string {
  if (error instanceof ProblemError) {
    const lines = [`${error.title}: ${error.message}`, ...error.issues.map((i) => `  ${i.pointer}: ${i.message}`)];
    const unmapped = error.extra.unmapped as Array<{ id: string; type: string; reason: string }> | undefined;
    if (unmapped?.length) lines.push('unmapped Node-RED nodes:', ...unmapped.map((u) => `  ${u.id} (${u.type}): ${u.reason}`));
    return lines.join('\n');
  }
  return error instanceof Error ? error.message : String(error);
}

const program = new Command();
program.name('flowcrew').description('Flowcrew workflow runtime').showHelpAfterError().exitOverride();

program
  .command('start')
  .description('start the runtime: REST API, webhooks, Socket.IO and deployed flows')
  .option('-p, --port <port>', 'port (default $PORT or 8420)')
  .option('--host <host>', 'bind address (default $HOST or 127.0.0.1)')
  .option('-d, --data-dir <dir>', 'data directory (default $FLOWCREW_DATA_DIR or ./.flowcrew)')
  .option('--mode <mode>', 'embedded (default), or main: runs go to the queue for `flowcrew worker` (needs PostgreSQL and Redis)')
  .action(async (opts: { port?: string; host?: string; dataDir?: string; mode?: string }) => {
    const env = { ...process.env, ...(opts.port ? { PORT: opts.port } : {}), ...(opts.host ? { HOST: opts.host } : {}), ...(opts.mode ? { FLOWCREW_MODE: opts.mode } : {}) };
    const config = loadConfig(env, opts.dataDir ? { dataDir: path.resolve(opts.dataDir) } : {});
    const server = await startServer(config);
    server.runtime.log.info(`Flowcrew listening on ${server.url} (storage: ${server.runtime.storage.dialect}, data: ${config.dataDir})`);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      server.runtime.log.info(`${signal}: shutting down; runs in flight resume at next start`);
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });

registerWorkerCommand(program);

program
  .command('run <flow>')
  .description('run a flow file once in a throwaway runtime and print the run with every node invocation')
  .option('-i, --input <json>', 'input message as JSON, e.g. \'{"payload": 1}\'', '{}')
  .option('-n, --node <id>', 'trigger node to start at (default: the first inject node)')
  .option('-t, --timeout <ms>', 'give up after this many ms', '60000')
  .action(async (file: string, opts: { input: string; node?: string; timeout: string }) => {
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(opts.input) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`--input is not valid JSON: ${(error as Error).message}`);
    }
    const doc = await readJsonFile(file);
    const dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-run-'));
    const actor = cliActor();
    try {
      await withServices(loadConfig({ ...process.env, DATABASE_URL: '' }, { dataDir, flowsDir: null, logLevel: 'warn' }), async (services, runtime) => {
        const imported = await services.flows.import(actor, doc, { deploy: true });
        const flowId = imported.flows[0]!.id;
        const { runId } = await services.runs.start(actor, flowId, { input, nodeId: opts.node });
        const run = await runtime.waitForRun(runId, Number(opts.timeout));
        const full = await services.runs.get(actor, run.id);
        process.stdout.write(`${JSON.stringify(full, null, 2)}\n`);
        process.exitCode = run.status === 'succeeded' ? 0 : 1;
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

program
  .command('import <file>')
  .description('import a Flowcrew or Node-RED flow file into the data directory')
  .option('-d, --data-dir <dir>', 'data directory')
  .option('--deploy', 'mark the imported flows deployed (active at next start)')
  .option('--replace', 'overwrite flows with the same id')
  .option('--project <id>', 'project of the new flows (default: "default")')
  .action(async (file: string, opts: { dataDir?: string; deploy?: boolean; replace?: boolean; project?: string }) => {
    const doc = await readJsonFile(file);
    const actor = cliActor();
    await withServices(loadConfig(process.env, { ...(opts.dataDir ? { dataDir: path.resolve(opts.dataDir) } : {}), logLevel: 'warn' }), async (services) => {
      const result = await services.flows.import(actor, doc, { replace: opts.replace, projectId: opts.project });
      if (opts.deploy) {
        for (const f of result.flows) await services.flows.markDeployed(actor, f.id, f.version);
        result.flows = result.flows.map((f) => ({ ...f, deployed: true }));
      }
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    });
  });

program
  .command('export <flowId>')
  .description('print a stored flow as Flowcrew JSON (or write it with -o)')
  .option('-d, --data-dir <dir>', 'data directory')
  .option('-o, --output <file>', 'write to a file instead of stdout')
  .action(async (flowId: string, opts: { dataDir?: string; output?: string }) => {
    const config = loadConfig(process.env, { ...(opts.dataDir ? { dataDir: path.resolve(opts.dataDir) } : {}), logLevel: 'warn' });
    const flow = await withServices(config, (services) => services.flows.export(cliActor(), flowId));
    const json = `${JSON.stringify(flow, null, 2)}\n`;
    if (opts.output) await writeFile(opts.output, json);
    else process.stdout.write(json);
  });

program
  .command('validate <file>')
  .description('validate a flow file against the format and the installed node types')
  .action(async (file: string) => {
    const doc = await readJsonFile(file);
    const config = loadConfig(process.env);
    const registry = new NodeRegistry();
    await registry.loadPackagesIn(config.nodesDir, 'workspace');
    await registry.loadUserDirectory(config.userNodesDir);
    if (isNodeRedExport(doc)) throw new Error(`${file} is a Node-RED export: import it with "flowcrew import" (it is converted then validated)`);
    const docs = Array.isArray(doc) ? doc : [doc];
    let problems = 0;
    docs.forEach((d, i) => {
      const { issues, warnings } = validateFlow(d, registry);
      problems += issues.length;
      for (const issue of issues) console.log(`${file}${docs.length > 1 ? `#${i}` : ''} ${issue.pointer}: ${issue.message}`);
      for (const warning of warnings) console.log(`${file}${docs.length > 1 ? `#${i}` : ''} ${warning.pointer}: warning: ${warning.message}`);
    });
    console.log(problems === 0 ? `${file}: valid` : `${file}: ${problems} problem(s)`);
    process.exitCode = problems === 0 ? 0 : 1;
  });

/**
 * The other commands live in modules of their own (credentials, backup, users, eval, test, git), imported only when
 * the command line does not name one of the commands above: `flowcrew start` does not load them, nor what they
 * import (YAML and JUnit XML for evals and tests, pg for backups), which a server would otherwise keep in its heap
 * for nothing. Help (no command, `help`, `--help`) lists them all.
 */
const OWN_COMMANDS = new Set(['start', 'worker', 'run', 'import', 'export', 'validate']);
const named = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
if (named === undefined || !OWN_COMMANDS.has(named)) {
  const registrars = await Promise.all([
    import('../vault/cli.ts').then((m) => m.registerCredentialCommands),
    import('../backup/cli.ts').then((m) => m.registerBackupCommands),
    import('./users.ts').then((m) => m.registerUserCommands),
    import('./eval.ts').then((m) => m.registerEvalCommands),
    import('./flowtest.ts').then((m) => m.registerTestCommand),
    import('./git.ts').then((m) => m.registerGitCommands),
  ]);
  for (const register of registrars) register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  console.error(`flowcrew: ${describeError(error)}`);
  process.exit(1);
}
