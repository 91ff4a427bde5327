/**
 * PostgreSQL backup and restore with the server's own tools, pg_dump and pg_restore (custom format), rather than a
 * logical export through the storage interface: pg_dump reads one snapshot in a repeatable-read transaction, so the
 * backup is consistent while runtimes write; it carries every table (identity, audit, context, what later migrations
 * add) without this code listing them; and operators can read, filter and restore it with tools they know.
 * `pg_restore --single-transaction --exit-on-error` makes the restore all or nothing.
 * Needs the client tools of the server's major version or newer (Debian: postgresql-client-<version>).
 */
import { execFile } from 'node:child_process';
import { open, rename, rm, stat } from 'node:fs/promises';
import pg from 'pg';
import { MIGRATIONS } from '../storage/migrations.ts';
import { redact, RUNTIME_APPLICATION_NAME } from '../storage/postgres.ts';
import { PG_DUMP_MAGIC, RestoreRefused, type BackupSummary, type Counts, type RestoreSummary } from './types.ts';

const APPLICATION_NAME = 'flowcrew-backup';

interface ToolResult {
  stdout: string;
  stderr: string;
}

/** Run pg_dump or pg_restore against `url`: the password goes in PGPASSWORD, never on the command line (ps shows it). */
function pgTool(tool: 'pg_dump' | 'pg_restore', args: string[], url?: string): Promise<ToolResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, PGAPPNAME: APPLICATION_NAME };
  const dbArgs: string[] = [];
  if (url) {
    const parsed = new URL(url);
    if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
    parsed.password = '';
    dbArgs.push(`--dbname=${parsed.toString()}`);
  }
  return new Promise((resolve, reject) => {
    execFile(tool, [...args, ...dbArgs], { env, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve({ stdout, stderr });
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new Error(`${tool} was not found: install the PostgreSQL client tools of the server's major version or newer (Debian: postgresql-client-<version>)`));
      }
      reject(new Error(`${tool} failed: ${(stderr || error.message).trim()}`));
    });
  });
}

export async function backupPostgres(url: string, file: string): Promise<BackupSummary> {
  const partial = `${file}.partial`;
  await rm(partial, { force: true });
  try {
    await pgTool('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--file=${partial}`], url);
    // Read back: a dump pg_restore cannot list is no backup.
    const schemaVersion = await dumpSchemaVersion(partial);
    const handle = await open(partial, 'r');
    await handle.sync().finally(() => handle.close());
    await rename(partial, file);
    return { dialect: 'postgres', file, bytes: (await stat(file)).size, schemaVersion };
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** The newest migration recorded in a dump, read from its schema_migrations data without any database. */
async function dumpSchemaVersion(file: string): Promise<number> {
  const { stdout } = await pgTool('pg_restore', ['--data-only', '--table=schema_migrations', '--file=-', file]);
  const copy = stdout.match(/^COPY \S*schema_migrations \([^)]*\) FROM stdin;\n([\s\S]*?)^\\\.$/m);
  if (!copy) throw new RestoreRefused(`${file} is a PostgreSQL dump but not of a Flowcrew database (it has no schema_migrations data)`);
  const versions = copy[1]!.split('\n').filter(Boolean).map((line) => Number(line.split('\t')[0]));
  return Math.max(0, ...versions.filter(Number.isFinite));
}

/** Sessions of running runtimes (their pools connect as application_name 'flowcrew') on the target database. */
async function runtimeSessions(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`,
    [RUNTIME_APPLICATION_NAME],
  );
  return rows[0]!.n;
}

async function counts(client: pg.Client): Promise<Counts> {
  const count = async (table: string) => {
    const exists = await client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [table]);
    if (!exists.rows[0].ok) return null;
    return Number((await client.query(`SELECT count(*)::bigint AS n FROM ${table}`)).rows[0].n);
  };
  return { flows: (await count('flows')) ?? 0, runs: (await count('runs')) ?? 0, credentials: (await count('credentials')) ?? 0, users: await count('users') };
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: APPLICATION_NAME });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`Cannot connect to PostgreSQL at ${redact(url)}: ${(error as Error).message}`, { cause: error });
  }
  return client;
}

export async function restorePostgres(file: string, url: string, options: { force: boolean }): Promise<RestoreSummary> {
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new RestoreRefused(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  try {
    const head = Buffer.alloc(PG_DUMP_MAGIC.length);
    await handle.read(head, 0, head.length, 0);
    if (!head.equals(PG_DUMP_MAGIC)) throw new RestoreRefused(`${file} is not a PostgreSQL backup (made by \`flowcrew backup\` with DATABASE_URL set)`);
  } finally {
    await handle.close();
  }
  // The whole dump is read (pg_restore --list checks its table of contents; the schema data is read back) before
  // the target is touched.
  await pgTool('pg_restore', ['--list', file]).catch((error: Error) => {
    throw new RestoreRefused(`${file} is damaged: ${error.message}`);
  });
  const schemaVersion = await dumpSchemaVersion(file);
  const known = MIGRATIONS.at(-1)?.version ?? 0;
  if (schemaVersion > known) throw new RestoreRefused(`${file} has schema version ${schemaVersion}, made by a newer Flowcrew than this one (${known}): upgrade Flowcrew first`);

  const client = await connect(url);
  try {
    const running = await runtimeSessions(client);
    if (running > 0 && !options.force) {
      throw new RestoreRefused(
        `${redact(url)} is in use by a running runtime (${running} connection(s) named "${RUNTIME_APPLICATION_NAME}" in pg_stat_activity): stop every runtime on it first, or pass --force to restore under them (then restart them)`,
      );
    }
    // One transaction: any error rolls every statement back and the database stays as it was.
    await pgTool('pg_restore', ['--clean', '--if-exists', '--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error', file], url).catch((error: Error) => {
      throw new Error(`restoring into ${redact(url)} failed, nothing was changed (one transaction, rolled back): ${error.message}`, { cause: error });
    });
    return { dialect: 'postgres', from: file, into: redact(url), schemaVersion, counts: await counts(client), forced: running > 0 };
  } finally {
    await client.end().catch(() => {});
  }
}
