import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from './index.ts';
import { SqlStorage } from './sql-storage.ts';
import { PAGE_SIZE, SqliteDriver, createSqliteStorage, sqliteFileIn } from './sqlite.ts';
import { defineStorageSuite, makeRun } from './storage.suite.ts';

const root = mkdtempSync(join(tmpdir(), 'flowcrew-sqlite-test-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

defineStorageSuite('SQLite (file)', {
  async open() {
    const filename = join(root, `t${++n}`, 'flowcrew.db');
    const storage = createSqliteStorage({ filename });
    await storage.migrate();
    return {
      storage,
      reopen: async () => {
        const again = createSqliteStorage({ filename });
        await again.migrate();
        return again;
      },
    };
  },
  async openBlank() {
    return createSqliteStorage({ filename: join(root, `t${++n}`, 'flowcrew.db') });
  },
});

defineStorageSuite('SQLite (:memory:)', {
  async open() {
    const storage = createSqliteStorage({ filename: ':memory:' });
    await storage.migrate();
    return { storage };
  },
  async openBlank() {
    return createSqliteStorage({ filename: ':memory:' });
  },
});

describe('SQLite specifics', () => {
  it('openStorage puts flowcrew.db in the data dir (created), WAL, synchronous NORMAL by default', async () => {
    const dataDir = join(root, 'data', 'nested');
    const storage = await openStorage({ dataDir });
    try {
      expect(existsSync(sqliteFileIn(dataDir))).toBe(true);
      expect(storage.dialect).toBe('sqlite');
      const db = ((storage as SqlStorage).driver as SqliteDriver).db;
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(Number(db.pragma('busy_timeout', { simple: true }))).toBeGreaterThan(0);
      await storage.acceptRun(makeRun(), []);
    } finally {
      await storage.close();
    }
  });

  it('a new database has 16 KB pages; one made with 4 KB pages (before session 9) keeps them and stores runs as before', async () => {
    const fresh = await openStorage({ dataDir: join(root, 'pages-new') });
    try {
      expect(((fresh as SqlStorage).driver as SqliteDriver).db.pragma('page_size', { simple: true })).toBe(PAGE_SIZE);
    } finally {
      await fresh.close();
    }
    const dataDir = join(root, 'pages-old');
    const older = await openStorage({ dataDir });
    await older.close();
    // Rebuild it as a 4 KB-page file, as earlier versions made it (VACUUM applies a page size outside WAL mode).
    const raw = new Database(sqliteFileIn(dataDir));
    raw.pragma('journal_mode = DELETE');
    raw.pragma('page_size = 4096');
    raw.exec('VACUUM');
    raw.pragma('journal_mode = WAL');
    raw.close();
    const reopened = await openStorage({ dataDir });
    try {
      expect(((reopened as SqlStorage).driver as SqliteDriver).db.pragma('page_size', { simple: true })).toBe(4096);
      const run = makeRun({ status: 'succeeded', finishedAt: Date.now() });
      await reopened.acceptRun(run, []);
      expect((await reopened.getRun(run.id))?.status).toBe('succeeded');
    } finally {
      await reopened.close();
    }
  });

  it('synchronous FULL on request', async () => {
    const storage = await openStorage({ dataDir: join(root, 'full'), sqliteSynchronous: 'FULL' });
    try {
      const db = ((storage as SqlStorage).driver as SqliteDriver).db;
      expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    } finally {
      await storage.close();
    }
  });

  it('openStorage with dataDir :memory: is an in-memory database', async () => {
    const storage = await openStorage({ dataDir: ':memory:' });
    try {
      expect(((storage as SqlStorage).driver as SqliteDriver).db.memory).toBe(true);
    } finally {
      await storage.close();
    }
  });

  it('refuses a database migrated by a newer Flowcrew', async () => {
    const dataDir = join(root, 'newer');
    const storage = await openStorage({ dataDir });
    await (storage as SqlStorage).driver.writeBatch([
      { sql: 'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', params: [999, 'future', 0] },
    ]);
    await storage.close();
    await expect(openStorage({ dataDir })).rejects.toThrow(/schema version 999, newer than this Flowcrew supports/);
  });
});
