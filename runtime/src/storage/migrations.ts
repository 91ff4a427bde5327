/**
 * Schema migrations: an ordered, append-only list. Each one is applied in its own transaction together with its row
 * in `schema_migrations`, so a crash never leaves a half-applied version. Never edit a released migration; add one.
 *
 * The SQL is shared by both dialects where possible (TEXT for JSON, BIGINT for epoch ms: SQLite maps BIGINT to
 * INTEGER affinity, a 64-bit integer). `sql` may be a function of the dialect for the rare differences.
 */
import { identityMigration } from './identity-sql.ts';
import { versionsMigration } from './versions.ts';
import { carriedPendingMigration } from './stored-pending.ts';
import { waitingMigration } from '../waiting/store.ts';
import { evalScoresMigration } from '../cli/eval-store.ts';
import { pinsMigration } from '../pins/store.ts';
import { flowTestSourceMigration, flowTestsMigration } from '../flowtest/store.ts';
import { variablesMigration } from '../variables/store.ts';
import { testRunsMigration } from '../pins/history.ts';
import { compactHistoryMigration } from './run-compact.ts';
import type { SqlDialect, SqlDriver, SqlStatement } from './sql-storage.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string[] | ((dialect: SqlDialect) => string[]);
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: [
      `CREATE TABLE IF NOT EXISTS flows (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        version BIGINT NOT NULL,
        document TEXT NOT NULL,
        deployed_version BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY,
        flow_id TEXT NOT NULL,
        flow_version BIGINT NOT NULL,
        status TEXT NOT NULL,
        trigger_node_id TEXT,
        input TEXT,
        error TEXT,
        parent_run_id TEXT,
        created_at BIGINT NOT NULL,
        started_at BIGINT,
        finished_at BIGINT
      )`,
      'CREATE INDEX IF NOT EXISTS runs_flow_created ON runs (flow_id, created_at)',
      'CREATE INDEX IF NOT EXISTS runs_status ON runs (status)',
      // The unfiltered run list and pruning order by creation time.
      'CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at)',
      `CREATE TABLE IF NOT EXISTS invocations (
        id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        node_type TEXT NOT NULL,
        status TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        input TEXT,
        outputs TEXT,
        error TEXT,
        parent_id TEXT,
        seq BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        started_at BIGINT,
        finished_at BIGINT
      )`,
      'CREATE INDEX IF NOT EXISTS invocations_run_seq ON invocations (run_id, seq)',
      // Partial index: pending invocations are few among many finished ones, and resume needs only those.
      `CREATE INDEX IF NOT EXISTS invocations_pending ON invocations (run_id, seq) WHERE status = 'pending'`,
      `CREATE TABLE IF NOT EXISTS context (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (scope, key)
      )`,
      `CREATE TABLE IF NOT EXISTS credentials (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'invocation model usage',
    // Only PostgreSQL has ADD COLUMN IF NOT EXISTS; SQLite needs none (BEGIN IMMEDIATE serialises migrators and a
    // loser's duplicate-column error is resolved by re-reading schema_migrations).
    sql: (dialect) => [
      dialect === 'postgres'
        ? 'ALTER TABLE invocations ADD COLUMN IF NOT EXISTS usage TEXT'
        : 'ALTER TABLE invocations ADD COLUMN usage TEXT',
    ],
  },
  {
    version: 3,
    name: 'deployed flow document',
    // The deployed revision's document, so a restart deploys what was deployed even after later edits.
    sql: (dialect) => [
      dialect === 'postgres'
        ? 'ALTER TABLE flows ADD COLUMN IF NOT EXISTS deployed_document TEXT'
        : 'ALTER TABLE flows ADD COLUMN deployed_document TEXT',
    ],
  },
  {
    version: 4,
    name: 'invocation interruptions',
    // How often the runtime died while an invocation was in flight: a message that crashes it is failed after a
    // few restarts instead of being replayed at every start for ever.
    sql: (dialect) => [
      dialect === 'postgres'
        ? 'ALTER TABLE invocations ADD COLUMN IF NOT EXISTS interruptions INTEGER NOT NULL DEFAULT 0'
        : 'ALTER TABLE invocations ADD COLUMN interruptions INTEGER NOT NULL DEFAULT 0',
    ],
  },
  {
    version: 6,
    name: 'identity: users, sessions, API tokens, projects and members, audit log; project of flows, credentials, runs',
    sql: identityMigration,
  },
  {
    version: 7,
    name: 'scale-out: run leases (owner, expiry) and the run outbox',
    // Run ownership across processes (storage/leases.ts): a run is executed by the process holding its lease; one
    // whose lease expired is taken over by exactly one other. The outbox holds accepted runs not yet handed to the
    // queue (written in the run's own transaction, so a run is enqueued only after it is committed).
    sql: (dialect) => {
      const add = dialect === 'postgres' ? 'ADD COLUMN IF NOT EXISTS' : 'ADD COLUMN';
      return [
        `ALTER TABLE runs ${add} owner TEXT`,
        `ALTER TABLE runs ${add} lease_expires_at BIGINT`,
        `CREATE INDEX IF NOT EXISTS runs_active_lease ON runs (lease_expires_at) WHERE status IN ('queued', 'running', 'waiting')`,
        `CREATE INDEX IF NOT EXISTS runs_active_owner ON runs (owner) WHERE status IN ('queued', 'running', 'waiting')`,
        `CREATE TABLE IF NOT EXISTS run_outbox (
          run_id TEXT PRIMARY KEY,
          created_at BIGINT NOT NULL
        )`,
      ];
    },
  },
  {
    version: 8,
    name: 'AI: questions runs wait on (human in the loop, waiting/store.ts) and evaluation scores (cli/eval-store.ts)',
    sql: (dialect) => [...waitingMigration(dialect), ...evalScoresMigration(dialect)],
  },
  {
    version: 9,
    name: 'flow versions and deployments, content hash of flows, Git links (storage/versions.ts)',
    sql: versionsMigration,
  },
  {
    version: 10,
    name: 'editor: pinned node outputs per flow (pins/store.ts)',
    sql: pinsMigration,
  },
  {
    version: 11,
    name: 'flow tests kept with flows (flowtest/store.ts), sub-flow library versions (subflows/store.ts)',
    sql: flowTestsMigration,
  },
  {
    version: 14,
    name: 'environments: per-project variables (variables/store.ts; secret values in the vault)',
    sql: variablesMigration,
  },
  {
    version: 15,
    name: 'editor: test runs (a manual run of the working copy) kept in the run history, marked (pins/history.ts)',
    sql: testRunsMigration,
  },
  {
    version: 16,
    name: 'compact history: a run written whole by one group commit keeps its invocations in its own row (storage/run-compact.ts)',
    sql: compactHistoryMigration,
  },
  {
    version: 17,
    name: 'flow tests: the suite text as typed in the editor, YAML or JSON (flowtest/store.ts)',
    sql: flowTestSourceMigration,
  },
  {
    version: 18,
    name: 'fewer run index entries: one lease index of active runs (owner, lease expiry); PostgreSQL: runs_status only for failed and cancelled runs',
    // Every new version of a run row adds an entry to each index of runs whose predicate it meets (a status change is
    // never a HOT update), and a queued run has three versions (accepted, claimed and started, finished): 19 entries
    // with 7 indexes (session 12). The lease queries of active runs take one index: renewal by owner (its leading
    // column), the periodic take-over of expired leases among owned runs (owner IS NOT NULL AND lease_expires_at < ?:
    // the runs being executed, not a backlog waiting with no owner), a start-up claim scanning the active runs once.
    // On PostgreSQL runs_status (every run, every version) becomes (status, created_at) of failed and cancelled runs
    // only: a list of those stays an index range, one of active runs uses the partial index below, one of succeeded
    // runs (most of them) reads runs_created backwards. SQLite keeps runs_status: its planner uses a partial index
    // only for a query repeating the index's own WHERE, and its runs are mostly written once, whole.
    sql: (dialect) => [
      'DROP INDEX IF EXISTS runs_active_lease',
      'DROP INDEX IF EXISTS runs_active_owner',
      `CREATE INDEX IF NOT EXISTS runs_active_owner_lease ON runs (owner, lease_expires_at) WHERE status IN ('queued', 'running', 'waiting')`,
      ...(dialect === 'postgres'
        ? ['DROP INDEX IF EXISTS runs_status', `CREATE INDEX IF NOT EXISTS runs_ended_badly ON runs (status, created_at) WHERE status IN ('failed', 'cancelled')`]
        : []),
    ],
  },
  {
    version: 20,
    name: 'a queued run carries its first pending invocation in its row (storage/stored-pending.ts CarriedPending)',
    sql: carriedPendingMigration,
  },
];

/** Serialises concurrent migrators on one PostgreSQL database (e.g. several runtimes starting together). */
const PG_LOCK: SqlStatement = { sql: 'SELECT pg_advisory_xact_lock(?)', params: [0x466c6f77] };

/** Apply every migration not yet recorded. Idempotent; safe with concurrent callers. */
export async function migrate(driver: SqlDriver, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  checkOrder(migrations);
  const lock = driver.dialect === 'postgres' ? [PG_LOCK] : [];
  await driver.writeBatch([
    ...lock,
    {
      sql: `CREATE TABLE IF NOT EXISTS schema_migrations (
        version BIGINT PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at BIGINT NOT NULL
      )`,
    },
  ]);
  const known = migrations.at(-1)?.version ?? 0;
  const newest = Math.max(0, ...(await appliedVersions(driver)));
  if (newest > known) {
    // Running old code on a newer schema could corrupt data it does not understand.
    throw new Error(
      `The ${driver.dialect} database has schema version ${newest}, newer than this Flowcrew supports (${known}). Upgrade Flowcrew.`,
    );
  }
  for (const migration of migrations) {
    const applied = await appliedVersions(driver);
    if (applied.has(migration.version)) continue;
    const sql = typeof migration.sql === 'function' ? migration.sql(driver.dialect) : migration.sql;
    try {
      await driver.writeBatch([
        ...lock,
        ...sql.map((s) => ({ sql: s })),
        {
          sql: 'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
          params: [migration.version, migration.name, Date.now()],
        },
      ]);
    } catch (error) {
      // Another process applied it while we waited for the lock: its row is there now and ours rolled back.
      if ((await appliedVersions(driver)).has(migration.version)) continue;
      throw new Error(
        `Database migration ${migration.version} (${migration.name}) failed on ${driver.dialect}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

async function appliedVersions(driver: SqlDriver): Promise<Set<number>> {
  const rows = await driver.all('SELECT version FROM schema_migrations');
  return new Set(rows.map((r) => Number(r.version)));
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (i > 0 && m.version <= migrations[i - 1]!.version) {
      throw new Error(`Migrations must be in strictly increasing version order: ${m.version} follows ${migrations[i - 1]!.version}.`);
    }
  });
}
