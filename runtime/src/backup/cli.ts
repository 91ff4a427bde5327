/**
 * `flowcrew backup <file>` and `flowcrew restore <file>`: the configured database (DATABASE_URL for PostgreSQL, else
 * SQLite in the data directory) to a file and back. Backups run beside running runtimes; a restore refuses a database
 * a runtime uses unless --force, and is all or nothing. Keys are never in a backup (CREDENTIAL_KEY_NOTE).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { sqliteFileIn } from '../storage/sqlite.ts';
import { backupPostgres, restorePostgres } from './postgres.ts';
import { backupSqlite, restoreSqlite } from './sqlite.ts';
import { CREDENTIAL_KEY_NOTE } from './types.ts';

const isPostgres = (url: string | undefined): url is string => url !== undefined && /^postgres(ql)?:/.test(url);

export function registerBackupCommands(program: Command): void {
  program
    .command('backup <file>')
    .description(
      'write a consistent copy of the database while runtimes keep running: SQLite through its online backup API, PostgreSQL with pg_dump ' +
        '(custom format). Credential keys are not in it: keep the key ring file or FLOWCREW_SECRET apart',
    )
    .option('-d, --data-dir <dir>', 'data directory (default $FLOWCREW_DATA_DIR or ./.flowcrew); DATABASE_URL selects PostgreSQL')
    .option('--force', 'overwrite <file> when it exists')
    .action(async (file: string, opts: { dataDir?: string; force?: boolean }) => {
      const target = path.resolve(file);
      if (existsSync(target) && !opts.force) throw new Error(`${target} exists: choose another file name, or pass --force to overwrite it`);
      const config = loadConfig(process.env, opts.dataDir ? { dataDir: path.resolve(opts.dataDir) } : {});
      const summary = isPostgres(config.databaseUrl) ? await backupPostgres(config.databaseUrl, target) : await backupSqlite(sqliteFileIn(config.dataDir), target);
      process.stdout.write(`${JSON.stringify({ ...summary, note: CREDENTIAL_KEY_NOTE }, null, 2)}\n`);
    });

  program
    .command('restore <file>')
    .description(
      'replace the database with a backup made by `flowcrew backup`, all or nothing (a failure changes nothing). Refuses while a runtime ' +
        'uses the database: stop it first',
    )
    .option('-d, --data-dir <dir>', 'data directory (default $FLOWCREW_DATA_DIR or ./.flowcrew); DATABASE_URL selects PostgreSQL')
    .option('--force', 'restore even while a runtime uses the database (restart it afterwards: it still holds the old state in memory)')
    .action(async (file: string, opts: { dataDir?: string; force?: boolean }) => {
      const source = path.resolve(file);
      const config = loadConfig(process.env, opts.dataDir ? { dataDir: path.resolve(opts.dataDir) } : {});
      const summary = isPostgres(config.databaseUrl)
        ? await restorePostgres(source, config.databaseUrl, { force: opts.force === true })
        : await restoreSqlite(source, sqliteFileIn(config.dataDir), { force: opts.force === true });
      process.stdout.write(`${JSON.stringify({ ...summary, note: CREDENTIAL_KEY_NOTE }, null, 2)}\n`);
    });
}
