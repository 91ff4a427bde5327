/** The behaviour both vector stores must share; run against each by sqlite-vec-store.test.ts and pgvector-store.test.ts. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedProvider } from '../providers/scripted.ts';
import { embeddingIdentity, ingestDocuments, searchCollection } from './knowledge.ts';
import type { VectorStore } from './vector-store.ts';

export function defineVectorStoreSuite(name: string, open: () => Promise<VectorStore>): void {
  describe(name, () => {
    let store: VectorStore;
    const prefix = `t_${process.pid}_${randomBytes(3).toString('hex')}`;
    const created: string[] = [];
    const collection = (label: string) => {
      const c = `${prefix}_${label}`;
      created.push(c);
      return c;
    };

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      for (const c of created) await store.dropCollection(c);
      await store.close();
    });

    it('returns the nearest records first with cosine scores', async () => {
      const c = collection('nearest');
      await store.ensureCollection({ name: c, dimensions: 3, embeddingModel: 'm' });
      await store.upsert(c, [
        { id: 'x', source: 's1', text: 'along x', vector: [1, 0, 0], metadata: { n: 1 } },
        { id: 'y', source: 's1', text: 'along y', vector: [0, 1, 0] },
        { id: 'xy', source: 's2', text: 'between', vector: [1, 1, 0] },
      ]);
      const hits = await store.query(c, [1, 0.1, 0], 2);
      expect(hits.map((h) => h.id)).toEqual(['x', 'xy']);
      expect(hits[0]!.score).toBeCloseTo(0.995, 2);
      expect(hits[1]!.score).toBeCloseTo(0.778, 2);
      expect(hits[0]).toMatchObject({ source: 's1', text: 'along x', metadata: { n: 1 } });
      expect(await store.count(c)).toBe(3);
      expect(await store.sources(c)).toEqual([{ source: 's1' }, { source: 's2' }]);
      await store.upsert(c, [{ id: 'z', source: 's3', text: 'along z', vector: [0, 0, 1], metadata: { contentHash: 'abc' } }]);
      expect((await store.sources(c)).at(-1)).toEqual({ source: 's3', contentHash: 'abc' });
      await store.deleteSource(c, 's3');
    });

    it('replaces a record with the same id and deletes a whole source', async () => {
      const c = collection('replace');
      await store.ensureCollection({ name: c, dimensions: 2, embeddingModel: 'm' });
      await store.upsert(c, [{ id: 'a', source: 'doc', text: 'old', vector: [1, 0] }]);
      await store.upsert(c, [
        { id: 'a', source: 'doc', text: 'new', vector: [0, 1] },
        { id: 'b', source: 'other', text: 'b', vector: [1, 0] },
      ]);
      expect((await store.query(c, [0, 1], 1))[0]).toMatchObject({ id: 'a', text: 'new' });
      expect(await store.count(c)).toBe(2);
      expect(await store.deleteSource(c, 'doc')).toBe(1);
      expect(await store.count(c)).toBe(1);
    });

    it('refuses vectors from another model or of another size', async () => {
      const c = collection('mismatch');
      await store.ensureCollection({ name: c, dimensions: 2, embeddingModel: 'model-a' });
      await expect(store.ensureCollection({ name: c, dimensions: 3, embeddingModel: 'model-b' })).rejects.toThrow(
        `collection "${c}" holds 2-dimension vectors from model-a; this node embeds with model-b (3 dimensions)`,
      );
      await expect(store.upsert(c, [{ id: 'z', source: 's', text: 't', vector: [1, 2, 3] }])).rejects.toThrow('vector has 3 dimensions, the collection 2');
      await expect(store.query(`${prefix}_missing`, [1, 0], 1)).rejects.toThrow(`collection "${prefix}_missing" does not exist`);
    });

    it('ingests documents in chunks and finds the passage that answers a query', async () => {
      const c = collection('knowledge');
      const embedder = new ScriptedProvider([], 'hash-embedder', 128);
      const doc = [
        'PostgreSQL stores rows in heap files. Vacuum reclaims dead tuples.',
        'pgvector adds a vector type to PostgreSQL with HNSW and IVFFlat indexes for nearest neighbour search.',
        'SQLite is an embedded database engine in a single file.',
      ].join('\n\n');
      const result = await ingestDocuments(store, embedder, c, [{ text: doc, source: 'db-notes.md', metadata: { lang: 'en' } }], { size: 110, overlap: 0 });
      expect(result).toMatchObject({ collection: c, chunks: 3, dimensions: 128, sources: [{ source: 'db-notes.md', chunks: 3 }] });
      const hits = await searchCollection(store, embedder, c, 'vector nearest neighbour indexes', { topK: 2 });
      expect(hits[0]).toMatchObject({ source: 'db-notes.md', metadata: { lang: 'en', chunk: 1 } });
      expect(hits[0]!.text).toContain('pgvector adds a vector type');
      expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
      // Ingesting the source again replaces it rather than duplicating it.
      await ingestDocuments(store, embedder, c, [{ text: 'Only one chunk now.', source: 'db-notes.md' }], { size: 110, overlap: 0 });
      expect(await store.count(c)).toBe(1);
      expect((await store.getCollection(c))!.embeddingModel).toBe(embeddingIdentity(embedder));
    });
  });
}
