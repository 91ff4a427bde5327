/** `flowcrew users …`: the first admin (and more) without a browser, through the user service as the CLI actor. */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { cliActor, withUsers } from './local.ts';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new Error('--password-stdin: pipe the password in, e.g. `printf %s "$PASSWORD" | flowcrew users create-admin ...`');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is what `echo` adds, not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('manage users of the data directory (works beside a running runtime)');
  users
    .command('create-admin')
    .description('create an instance admin (the first one also owns the default project); without --password-stdin a password is generated and printed once')
    .requiredOption('-u, --username <username>', 'sign-in name')
    .option('--password-stdin', 'read the password from standard input')
    .option('--name <name>', 'display name (default: the username)')
    .option('-d, --data-dir <dir>', 'data directory (default $FLOWCREW_DATA_DIR or ./.flowcrew)')
    .action(async (opts: { username: string; passwordStdin?: boolean; name?: string; dataDir?: string }) => {
      const password = opts.passwordStdin ? await readStdin() : randomBytes(18).toString('base64url');
      const config = loadConfig(process.env, { ...(opts.dataDir ? { dataDir: path.resolve(opts.dataDir) } : {}), logLevel: 'warn' });
      const user = await withUsers(config, (service) => service.create(cliActor(), { username: opts.username, password, name: opts.name, instanceRole: 'admin' }));
      process.stdout.write(`${JSON.stringify(user, null, 2)}\n`);
      if (!opts.passwordStdin) process.stdout.write(`password: ${password}\n(shown once: sign in and change it, or keep it in a password manager)\n`);
    });
}
