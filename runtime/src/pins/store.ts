/**
 * Pinned node outputs of the editor (migration 10): per flow and node, the output a manual run uses instead of calling
 * the node (n8n's pinned data). Kept beside the flow, not in its document: pins are test data, they must not create
 * flow versions, be deployed, or be exported with the flow.
 */
import type { PinnedOutput, Pins } from '../flowtest/pins.ts';
import { num, strOrNull } from '../storage/row-values.ts';
import type { Row, SqlDialect, SqlDriver } from '../storage/sql-storage.ts';

export function pinsMigration(_dialect: SqlDialect): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS flow_pins (
      flow_id TEXT NOT NULL,
      node_id TEXT NOT NULL,
      pin TEXT NOT NULL,
      updated_at BIGINT NOT NULL,
      updated_by TEXT,
      PRIMARY KEY (flow_id, node_id)
    )`,
  ];
}

export interface PinRecord {
  nodeId: string;
  pin: PinnedOutput;
  updatedAt: number;
  /** Actor name of whoever pinned it. */
  updatedBy: string | null;
}

export class PinStore {
  constructor(private readonly driver: SqlDriver) {}

  async list(flowId: string): Promise<PinRecord[]> {
    const rows = await this.driver.all('SELECT * FROM flow_pins WHERE flow_id = ? ORDER BY node_id', [flowId]);
    return rows.map(toRecord);
  }

  async pins(flowId: string): Promise<Pins> {
    return Object.fromEntries((await this.list(flowId)).map((r) => [r.nodeId, r.pin]));
  }

  async set(flowId: string, nodeId: string, pin: PinnedOutput, by: string, at = Date.now()): Promise<PinRecord> {
    await this.driver.writeBatch([
      {
        sql: `INSERT INTO flow_pins (flow_id, node_id, pin, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
              ON CONFLICT (flow_id, node_id) DO UPDATE SET pin = excluded.pin, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        params: [flowId, nodeId, JSON.stringify(pin), at, by],
      },
    ]);
    return { nodeId, pin, updatedAt: at, updatedBy: by };
  }

  /** True when there was a pin to remove. */
  async remove(flowId: string, nodeId?: string): Promise<boolean> {
    const [result] = await this.driver.writeBatch([
      nodeId === undefined
        ? { sql: 'DELETE FROM flow_pins WHERE flow_id = ?', params: [flowId] }
        : { sql: 'DELETE FROM flow_pins WHERE flow_id = ? AND node_id = ?', params: [flowId, nodeId] },
    ]);
    return (result?.changes ?? 0) > 0;
  }
}

function toRecord(row: Row): PinRecord {
  return { nodeId: String(row.node_id), pin: JSON.parse(String(row.pin)) as PinnedOutput, updatedAt: num(row.updated_at), updatedBy: strOrNull(row.updated_by) };
}
