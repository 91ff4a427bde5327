/** What `flowcrew backup` and `flowcrew restore` report, and the errors they refuse with. */

export interface BackupSummary {
  dialect: 'sqlite' | 'postgres';
  file: string;
  bytes: number;
  /** The newest schema migration in the backup. */
  schemaVersion: number;
  /** Rows in the backup (SQLite: read from the backup file itself); absent for PostgreSQL dumps. */
  counts?: Counts;
}

export interface RestoreSummary {
  dialect: 'sqlite' | 'postgres';
  from: string;
  /** The database restored into (a PostgreSQL URL without its password). */
  into: string;
  schemaVersion: number;
  /** Rows in the restored database, read back after the restore. */
  counts: Counts;
  /** Restored although a runtime was using the database (--force): restart it. */
  forced: boolean;
}

export interface Counts {
  flows: number;
  runs: number;
  credentials: number;
  users: number | null;
}

/** Refused before anything was changed: the target is exactly as it was. */
export class RestoreRefused extends Error {
  override name = 'RestoreRefused';
}

/** Magic numbers at the start of each kind of backup file. */
export const SQLITE_MAGIC = Buffer.from('SQLite format 3\u0000', 'latin1');
export const PG_DUMP_MAGIC = Buffer.from('PGDMP', 'latin1');

export const CREDENTIAL_KEY_NOTE =
  'credentials are encrypted: the restored installation needs the key they were written with (the key ring file, FLOWCREW_KEYRING_FILE, or FLOWCREW_SECRET); a backup never holds keys';
