/**
 * Evaluation scores in the database (migration 8, table `eval_scores`): one row per evaluation of a flow version on
 * a dataset, with its per-case checks. Kept beside the runs (SQLite or PostgreSQL, backed up with them), so scores
 * per version can be compared by any runtime sharing the database, not only on the machine that ran them.
 */
import { randomUUID } from 'node:crypto';
import type { SqlDialect, SqlDriver } from '../storage/sql-storage.ts';
import { SqlStorage } from '../storage/sql-storage.ts';
import type { Storage } from '../storage/types.ts';
import { num } from '../storage/row-values.ts';
import type { CaseResult } from './eval-dataset.ts';

export interface EvalRecord {
  /** Set once stored. */
  id?: string;
  at: string;
  dataset: string;
  flowId: string;
  flowVersion: number;
  score: number;
  cases: CaseResult[];
}

export function evalScoresMigration(_dialect: SqlDialect): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS eval_scores (
      id TEXT PRIMARY KEY,
      flow_id TEXT NOT NULL,
      flow_version BIGINT NOT NULL,
      dataset TEXT NOT NULL,
      score DOUBLE PRECISION NOT NULL,
      cases TEXT NOT NULL,
      created_at BIGINT NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS eval_scores_flow ON eval_scores (flow_id, created_at)`,
  ];
}

export class EvalStore {
  private constructor(private readonly driver: SqlDriver) {}

  static of(storage: Storage): EvalStore {
    if (!(storage instanceof SqlStorage)) throw new Error('evaluation scores need the SQL storage (SQLite or PostgreSQL)');
    return new EvalStore(storage.driver);
  }

  async add(record: EvalRecord): Promise<void> {
    record.id ??= randomUUID();
    await this.driver.writeBatch([
      {
        sql: 'INSERT INTO eval_scores (id, flow_id, flow_version, dataset, score, cases, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        params: [record.id, record.flowId, record.flowVersion, record.dataset, record.score, JSON.stringify(record.cases), Date.parse(record.at)],
      },
    ]);
  }

  /** Evaluations of a flow, oldest first. */
  async history(flowId: string): Promise<EvalRecord[]> {
    const rows = await this.driver.all('SELECT * FROM eval_scores WHERE flow_id = ? ORDER BY created_at, id', [flowId]);
    return rows.map((row) => ({
      id: String(row.id),
      at: new Date(num(row.created_at)).toISOString(),
      dataset: String(row.dataset),
      flowId: String(row.flow_id),
      flowVersion: num(row.flow_version),
      score: Number(row.score),
      cases: JSON.parse(String(row.cases)) as CaseResult[],
    }));
  }
}
