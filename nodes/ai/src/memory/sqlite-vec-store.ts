/**
 * The embedded vector store for the SQLite default: better-sqlite3 with the sqlite-vec extension. Each collection
 * is a vec0 virtual table (cosine distance, fixed dimensions); texts and metadata live in one ordinary table whose
 * rowid is the vector's rowid. Exact k-nearest-neighbour search: right for the sizes an embedded store sees.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { checkCollection, checkVector, missingCollection, type CollectionInfo, type VectorHit, type VectorRecord, type VectorStore } from './vector-store.ts';

export class SqliteVecStore implements VectorStore {
  readonly kind = 'sqlite';

  private constructor(private readonly db: Database.Database) {}

  static open(file: string): SqliteVecStore {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    sqliteVec.load(db);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.exec(`
      CREATE TABLE IF NOT EXISTS ai_collections (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        dimensions INTEGER NOT NULL,
        embedding_model TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS ai_chunks (
        rowid INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL REFERENCES ai_collections(id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        source TEXT NOT NULL,
        text TEXT NOT NULL,
        metadata TEXT NOT NULL DEFAULT '{}',
        UNIQUE (collection_id, id)
      );
      CREATE INDEX IF NOT EXISTS ai_chunks_source ON ai_chunks (collection_id, source);
    `);
    return new SqliteVecStore(db);
  }

  private collection(name: string): { id: number; dimensions: number; embedding_model: string } | undefined {
    return this.db.prepare('SELECT id, dimensions, embedding_model FROM ai_collections WHERE name = ?').get(name) as never;
  }

  private required(name: string): { id: number; dimensions: number; table: string } {
    const c = this.collection(name);
    if (!c) throw missingCollection(name);
    return { id: c.id, dimensions: c.dimensions, table: `ai_vec_${c.id}` };
  }

  async getCollection(name: string): Promise<CollectionInfo | undefined> {
    const c = this.collection(name);
    return c && { name, dimensions: c.dimensions, embeddingModel: c.embedding_model };
  }

  async ensureCollection(info: CollectionInfo): Promise<void> {
    const existing = await this.getCollection(info.name);
    if (existing) return checkCollection(existing, info);
    if (!Number.isInteger(info.dimensions) || info.dimensions < 1) throw new Error(`invalid vector dimensions ${info.dimensions}`);
    this.db.transaction(() => {
      const { lastInsertRowid } = this.db
        .prepare('INSERT INTO ai_collections (name, dimensions, embedding_model, created_at) VALUES (?, ?, ?, ?)')
        .run(info.name, info.dimensions, info.embeddingModel, Date.now());
      this.db.exec(`CREATE VIRTUAL TABLE ai_vec_${Number(lastInsertRowid)} USING vec0(embedding float[${info.dimensions}] distance_metric=cosine)`);
    })();
  }

  async upsert(collection: string, records: VectorRecord[]): Promise<void> {
    const c = this.required(collection);
    for (const r of records) checkVector(r.vector, c.dimensions);
    const find = this.db.prepare('SELECT rowid FROM ai_chunks WHERE collection_id = ? AND id = ?');
    const removeVector = this.db.prepare(`DELETE FROM ${c.table} WHERE rowid = ?`);
    const removeChunk = this.db.prepare('DELETE FROM ai_chunks WHERE rowid = ?');
    const insertChunk = this.db.prepare('INSERT INTO ai_chunks (collection_id, id, source, text, metadata) VALUES (?, ?, ?, ?, ?)');
    const insertVector = this.db.prepare(`INSERT INTO ${c.table} (rowid, embedding) VALUES (?, ?)`);
    this.db.transaction(() => {
      for (const r of records) {
        const old = find.get(c.id, r.id) as { rowid: number } | undefined;
        if (old) {
          removeVector.run(BigInt(old.rowid));
          removeChunk.run(old.rowid);
        }
        const { lastInsertRowid } = insertChunk.run(c.id, r.id, r.source, r.text, JSON.stringify(r.metadata ?? {}));
        // vec0 accepts only integer (BigInt) rowids from better-sqlite3.
        insertVector.run(BigInt(lastInsertRowid), new Float32Array(r.vector));
      }
    })();
  }

  async deleteSource(collection: string, source: string): Promise<number> {
    const c = this.collection(collection);
    if (!c) return 0;
    const rows = this.db.prepare('SELECT rowid FROM ai_chunks WHERE collection_id = ? AND source = ?').all(c.id, source) as Array<{ rowid: number }>;
    const removeVector = this.db.prepare(`DELETE FROM ai_vec_${c.id} WHERE rowid = ?`);
    const removeChunk = this.db.prepare('DELETE FROM ai_chunks WHERE rowid = ?');
    this.db.transaction(() => {
      for (const row of rows) {
        removeVector.run(BigInt(row.rowid));
        removeChunk.run(row.rowid);
      }
    })();
    return rows.length;
  }

  async query(collection: string, vector: number[], topK: number): Promise<VectorHit[]> {
    const c = this.required(collection);
    checkVector(vector, c.dimensions);
    const rows = this.db
      .prepare(
        `SELECT ch.id, ch.source, ch.text, ch.metadata, v.distance
           FROM (SELECT rowid, distance FROM ${c.table} WHERE embedding MATCH ? AND k = ?) v
           JOIN ai_chunks ch ON ch.rowid = v.rowid
          ORDER BY v.distance`,
      )
      .all(new Float32Array(vector), topK) as Array<{ id: string; source: string; text: string; metadata: string; distance: number }>;
    return rows.map((r) => ({ id: r.id, source: r.source, text: r.text, metadata: JSON.parse(r.metadata) as Record<string, unknown>, score: 1 - r.distance }));
  }

  async count(collection: string): Promise<number> {
    const c = this.collection(collection);
    if (!c) return 0;
    return (this.db.prepare('SELECT count(*) AS n FROM ai_chunks WHERE collection_id = ?').get(c.id) as { n: number }).n;
  }

  async sources(collection: string): Promise<Array<{ source: string; contentHash?: string }>> {
    const c = this.collection(collection);
    if (!c) return [];
    const rows = this.db
      .prepare("SELECT source, max(json_extract(metadata, '$.contentHash')) AS hash FROM ai_chunks WHERE collection_id = ? GROUP BY source ORDER BY source")
      .all(c.id) as Array<{ source: string; hash: string | null }>;
    return rows.map((r) => ({ source: r.source, ...(typeof r.hash === 'string' ? { contentHash: r.hash } : {}) }));
  }

  async dropCollection(collection: string): Promise<void> {
    const c = this.collection(collection);
    if (!c) return;
    this.db.transaction(() => {
      this.db.exec(`DROP TABLE IF EXISTS ai_vec_${c.id}`);
      this.db.prepare('DELETE FROM ai_chunks WHERE collection_id = ?').run(c.id);
      this.db.prepare('DELETE FROM ai_collections WHERE id = ?').run(c.id);
    })();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
