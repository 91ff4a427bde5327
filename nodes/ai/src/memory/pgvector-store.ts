/**
 * The production vector store: PostgreSQL with pgvector. One table per collection, so each can carry a fixed
 * dimension and an HNSW cosine index; a catalogue table records each collection's model and dimensions.
 */
import pg from 'pg';
import { toSql } from 'pgvector';
import { checkCollection, checkVector, missingCollection, type CollectionInfo, type VectorHit, type VectorRecord, type VectorStore } from './vector-store.ts';

/** pgvector's HNSW index covers vectors up to 2000 dimensions; larger collections are searched exactly. */
const MAX_INDEXED_DIMENSIONS = 2000;

export class PgVectorStore implements VectorStore {
  readonly kind = 'postgres';

  private constructor(private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PgVectorStore> {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    try {
      await pool.query('CREATE EXTENSION IF NOT EXISTS vector');
    } catch (error) {
      await pool.end();
      throw new Error(
        `PostgreSQL vector store: cannot enable the pgvector extension (${(error as Error).message}). ` +
          'Install it on the database server (scripts/ai-setup pgvector) and run CREATE EXTENSION vector as a superuser.',
      );
    }
    await pool.query(`
      CREATE TABLE IF NOT EXISTS ai_collections (
        id SERIAL PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        dimensions INTEGER NOT NULL,
        embedding_model TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
    return new PgVectorStore(pool);
  }

  /** The catalogue row of a collection, read through `db` (a transaction's client, or the pool). */
  private async collection(name: string, db: pg.Pool | pg.PoolClient = this.pool): Promise<{ id: number; dimensions: number; embedding_model: string } | undefined> {
    const { rows } = await db.query('SELECT id, dimensions, embedding_model FROM ai_collections WHERE name = $1', [name]);
    return rows[0];
  }

  private async required(name: string): Promise<{ dimensions: number; table: string }> {
    const c = await this.collection(name);
    if (!c) throw missingCollection(name);
    return { dimensions: c.dimensions, table: `ai_vec_${c.id}` };
  }

  /** Run `work` in a transaction on one pooled connection: committed when it returns, rolled back when it throws. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async getCollection(name: string): Promise<CollectionInfo | undefined> {
    const c = await this.collection(name);
    return c && { name, dimensions: c.dimensions, embeddingModel: c.embedding_model };
  }

  async ensureCollection(info: CollectionInfo): Promise<void> {
    const existing = await this.getCollection(info.name);
    if (existing) return checkCollection(existing, info);
    if (!Number.isInteger(info.dimensions) || info.dimensions < 1 || info.dimensions > 16000) throw new Error(`invalid vector dimensions ${info.dimensions}`);
    // `meanwhile`: the collection as another node created it while this one waited for the lock.
    const meanwhile = await this.transaction(async (client) => {
      // Two nodes creating the same collection at once: the second waits here, then finds it.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('flowcrew.ai_collections'))");
      const again = await this.collection(info.name, client);
      if (again) return { name: info.name, dimensions: again.dimensions, embeddingModel: again.embedding_model };
      const { rows } = await client.query('INSERT INTO ai_collections (name, dimensions, embedding_model) VALUES ($1, $2, $3) RETURNING id', [info.name, info.dimensions, info.embeddingModel]);
      const table = `ai_vec_${Number(rows[0].id)}`;
      await client.query(`CREATE TABLE ${table} (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        content TEXT NOT NULL,
        metadata JSONB NOT NULL DEFAULT '{}',
        embedding vector(${info.dimensions}) NOT NULL
      )`);
      await client.query(`CREATE INDEX ${table}_source ON ${table} (source)`);
      if (info.dimensions <= MAX_INDEXED_DIMENSIONS) await client.query(`CREATE INDEX ${table}_hnsw ON ${table} USING hnsw (embedding vector_cosine_ops)`);
      return undefined;
    });
    if (meanwhile) checkCollection(meanwhile, info);
  }

  async upsert(collection: string, records: VectorRecord[]): Promise<void> {
    if (records.length === 0) return;
    const c = await this.required(collection);
    for (const r of records) checkVector(r.vector, c.dimensions);
    await this.transaction(async (client) => {
      for (const r of records) {
        await client.query(
          `INSERT INTO ${c.table} (id, source, content, metadata, embedding) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (id) DO UPDATE SET source = EXCLUDED.source, content = EXCLUDED.content, metadata = EXCLUDED.metadata, embedding = EXCLUDED.embedding`,
          [r.id, r.source, r.text, JSON.stringify(r.metadata ?? {}), toSql(r.vector)],
        );
      }
    });
  }

  async deleteSource(collection: string, source: string): Promise<number> {
    const c = await this.collection(collection);
    if (!c) return 0;
    const result = await this.pool.query(`DELETE FROM ai_vec_${c.id} WHERE source = $1`, [source]);
    return result.rowCount ?? 0;
  }

  async query(collection: string, vector: number[], topK: number): Promise<VectorHit[]> {
    const c = await this.required(collection);
    checkVector(vector, c.dimensions);
    const { rows } = await this.pool.query(
      `SELECT id, source, content, metadata, 1 - (embedding <=> $1) AS score FROM ${c.table} ORDER BY embedding <=> $1 LIMIT $2`,
      [toSql(vector), topK],
    );
    return rows.map((r) => ({ id: r.id, source: r.source, text: r.content, metadata: r.metadata, score: Number(r.score) }));
  }

  async count(collection: string): Promise<number> {
    const c = await this.collection(collection);
    if (!c) return 0;
    const { rows } = await this.pool.query(`SELECT count(*)::int AS n FROM ai_vec_${c.id}`);
    return rows[0].n;
  }

  async sources(collection: string): Promise<Array<{ source: string; contentHash?: string }>> {
    const c = await this.collection(collection);
    if (!c) return [];
    const { rows } = await this.pool.query(`SELECT source, max(metadata->>'contentHash') AS hash FROM ai_vec_${c.id} GROUP BY source ORDER BY source`);
    return rows.map((r) => ({ source: r.source as string, ...(typeof r.hash === 'string' ? { contentHash: r.hash } : {}) }));
  }

  async dropCollection(collection: string): Promise<void> {
    const c = await this.collection(collection);
    if (!c) return;
    await this.pool.query(`DROP TABLE IF EXISTS ai_vec_${c.id}`);
    await this.pool.query('DELETE FROM ai_collections WHERE id = $1', [c.id]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
