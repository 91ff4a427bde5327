/**
 * Test runs in the run history (migration 15): a manual run of the editor (its unsaved working copy, pinned outputs)
 * runs in an isolated sandbox so it never touches the real flow's triggers, context or pinned systems; when it ends,
 * its runs (the run and any sub-flow runs it made) and their invocations are stored in the real history in one
 * transaction, marked `test`. Same run record shape, same status list; retention applies as to any run.
 */
import { decideRetention } from '../storage/retention.ts';
import { acceptRunWrite, statementsOf } from '../storage/run-writes.ts';
import type { SqlDialect, SqlDriver, SqlStatement } from '../storage/sql-storage.ts';
import type { InvocationRecord, MessageLimits, RetentionMode, RetentionPolicy, RunRecord } from '../storage/types.ts';

export function testRunsMigration(dialect: SqlDialect): string[] {
  const add = dialect === 'postgres' ? 'ADD COLUMN IF NOT EXISTS' : 'ADD COLUMN';
  // 0/1 in both dialects; every existing and every executor-made run is a real one.
  return [`ALTER TABLE runs ${add} test INTEGER NOT NULL DEFAULT 0`];
}

export interface FinishedRun {
  run: RunRecord;
  invocations: InvocationRecord[];
}

export interface TestRunTarget {
  driver: SqlDriver;
  limits: MessageLimits;
  retention: RetentionPolicy;
}

/**
 * Store finished sandbox runs as test runs of `projectId`'s flows. `versionOf` gives each flow's stored revision (the
 * sandbox numbers its own; a working copy runs on top of the stored one). Returns the ids kept (retention may keep
 * none, e.g. mode 'none').
 */
export async function recordTestRuns(
  target: TestRunTarget,
  runs: readonly FinishedRun[],
  context: { projectId: string; versionOf: (flowId: string) => number | undefined; flowRetention?: RetentionMode; now?: number },
): Promise<string[]> {
  const statements: SqlStatement[] = [];
  const kept: string[] = [];
  // A sub-flow run is kept with its parent run (retention decides on the run the user started).
  const root = runs.find((r) => r.run.parentRunId === null) ?? runs[0];
  if (!root || decideRetention(target.retention, root.run, { flowRetention: context.flowRetention, now: context.now }) === 'delete') return kept;
  for (const { run, invocations } of runs) {
    const record: RunRecord = { ...run, projectId: context.projectId, flowVersion: context.versionOf(run.flowId) ?? run.flowVersion, test: true };
    // No lease: the run is finished; acceptRunWrite serialises every message within the storage's limits.
    statements.push(...statementsOf(acceptRunWrite(record, invocations, target.limits, [null, null])));
    statements.push({ sql: 'UPDATE runs SET test = 1 WHERE id = ?', params: [run.id] });
    kept.push(run.id);
  }
  await target.driver.writeBatch(statements);
  return kept;
}
