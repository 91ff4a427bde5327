/**
 * `flowcrew versions …` and `flowcrew git …`: flow versions and a project's Git link from the shell, through the same
 * services as the REST API, as the CLI actor. Pull stores without deploying (a running server deploys; use the API's
 * pull with deploy or promote for that).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { cliActor, withServices } from './local.ts';

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};
const configFor = (dataDir?: string) => loadConfig(process.env, { ...(dataDir ? { dataDir: path.resolve(dataDir) } : {}), logLevel: 'warn' });
const positive = (value: string, what: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${what} must be a version number (1, 2, ...), got "${value}"`);
  return n;
};

export function registerGitCommands(program: Command): void {
  const versions = program.command('versions').description('saved versions of a flow: list, diff, restore');
  versions
    .command('list <flowId>')
    .description('versions, newest first, with who saved each and which one is deployed')
    .option('-d, --data-dir <dir>', 'data directory (default $FLOWCREW_DATA_DIR or ./.flowcrew)')
    .action(async (flowId: string, opts: { dataDir?: string }) => print(await withServices(configFor(opts.dataDir), (s) => s.versions.list(cliActor(), flowId))));
  versions
    .command('diff <flowId> <from> [to]')
    .description('what changed from one version to another (default: the current one)')
    .option('-d, --data-dir <dir>', 'data directory')
    .action(async (flowId: string, from: string, to: string | undefined, opts: { dataDir?: string }) =>
      print(await withServices(configFor(opts.dataDir), (s) => s.versions.diff(cliActor(), flowId, positive(from, 'from'), to === undefined ? undefined : positive(to, 'to')))),
    );
  versions
    .command('restore <flowId> <version>')
    .description('save an old version as a new one (not deployed)')
    .option('-d, --data-dir <dir>', 'data directory')
    .action(async (flowId: string, version: string, opts: { dataDir?: string }) =>
      print(await withServices(configFor(opts.dataDir), (s) => s.versions.restore(cliActor(), flowId, positive(version, 'version')))),
    );

  const git = program.command('git').description("a project's Git link: show, push, pull");
  git
    .command('show <projectId>')
    .description('the link: repository, branch, environment, last synchronised commit')
    .option('-d, --data-dir <dir>', 'data directory')
    .action(async (projectId: string, opts: { dataDir?: string }) => print(await withServices(configFor(opts.dataDir), (s) => s.git.getLink(cliActor(), projectId))));
  git
    .command('push <projectId>')
    .description("commit the project's flows and credential references to its branch and push")
    .option('-m, --message <message>', 'commit message')
    .option('-d, --data-dir <dir>', 'data directory')
    .action(async (projectId: string, opts: { message?: string; dataDir?: string }) => print(await withServices(configFor(opts.dataDir), (s) => s.git.push(cliActor(), projectId, opts.message))));
  git
    .command('pull <projectId>')
    .description("merge the branch's new commits and store the changed flows (not deployed)")
    .option('-d, --data-dir <dir>', 'data directory')
    .action(async (projectId: string, opts: { dataDir?: string }) => print(await withServices(configFor(opts.dataDir), (s) => s.git.pull(cliActor(), projectId))));
}
