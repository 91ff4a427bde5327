import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { BOUND_PAGES, STEPS } from './sqlite-checkpoint.ts';
import { PAGE_SIZE, SqliteDriver } from './sqlite.ts';

const root = mkdtempSync(join(tmpdir(), 'flowcrew-checkpoint-test-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

const fileName = () => join(root, `t${++n}`, 'flowcrew.db');
const body = 'y'.repeat(4000);
const insert = (batch: number) =>
  Array.from({ length: 20 }, (_, i) => ({ sql: 'INSERT INTO rows (batch, n, body) VALUES (?, ?, ?)', params: [batch, i, body] }));

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('WAL checkpoints in a worker thread', () => {
  it('copy committed pages back into the database file while the main connection keeps writing', async () => {
    const filename = fileName();
    const driver = new SqliteDriver({ filename });
    try {
      expect(driver.checkpointer).toBeDefined();
      await driver.exec('CREATE TABLE rows (batch INTEGER NOT NULL, n INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (batch, n))');
      // 60 batches of 20 rows of 4 KB: ~5 MB in ~500 WAL frames, under the 1,000 at which SQLite's own checkpoint fires.
      for (let batch = 1; batch <= 60; batch++) await driver.writeBatch(insert(batch));
      await until('the worker to checkpoint after it was last asked to', () => driver.checkpointer!.caughtUp);
      // Only the worker copied pages back: the database file itself now holds the rows, all but the last step's.
      expect(statSync(filename).size).toBeGreaterThan(60 * 20 * 4000 - (BOUND_PAGES * PAGE_SIZE) / STEPS);
      expect(driver.checkpointer!.checkpoints).toBeGreaterThan(0);
      expect(driver.checkpointer!.error).toBeUndefined();
      expect((await driver.get('SELECT count(*) AS c FROM rows'))!.c).toBe(1200);
    } finally {
      await driver.close();
    }
    // The worker's connection closed first, so the main one was the last: SQLite checkpointed and removed the WAL.
    expect(existsSync(`${filename}-wal`)).toBe(false);
    const reopened = new Database(filename, { readonly: true });
    expect(reopened.prepare('SELECT count(*) AS c FROM rows').get()).toEqual({ c: 1200 });
    reopened.close();
  });

  it('keep the WAL bounded: after 80 MB written without a pause, it starts over once a commit finds the checkpoint lock free', async () => {
    const filename = fileName();
    const driver = new SqliteDriver({ filename });
    try {
      await driver.exec('CREATE TABLE rows (batch INTEGER NOT NULL, n INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (batch, n))');
      for (let batch = 1; batch <= 1000; batch++) await driver.writeBatch(insert(batch));
      // How far past the bound the WAL grew meanwhile depends on how long a worker checkpoint held the lock (the
      // machine's load); that it comes back is what is guaranteed: at the bound each commit tries to checkpoint what
      // is left, and the next commit after one that succeeded starts the WAL over (journal_size_limit 0 truncates it).
      let batch = 1000;
      const deadline = Date.now() + 30_000;
      while (statSync(`${filename}-wal`).size >= BOUND_PAGES * PAGE_SIZE) {
        if (Date.now() > deadline) throw new Error(`the WAL is still ${statSync(`${filename}-wal`).size} bytes`);
        await driver.writeBatch([{ sql: 'INSERT INTO rows (batch, n, body) VALUES (?, ?, ?)', params: [++batch, 0, 'small'] }]);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect((await driver.get('SELECT count(*) AS c FROM rows'))!.c).toBe(20_000 + batch - 1000);
    } finally {
      await driver.close();
    }
  });

  it("a ':memory:' database or checkpoint 'inline' has no checkpointer; a little-written file starts no thread", async () => {
    const memory = new SqliteDriver({ filename: ':memory:' });
    const inline = new SqliteDriver({ filename: fileName(), checkpoint: 'inline' });
    const quiet = new SqliteDriver({ filename: fileName() });
    expect(memory.checkpointer).toBeUndefined();
    expect(inline.checkpointer).toBeUndefined();
    await quiet.exec('CREATE TABLE rows (batch INTEGER NOT NULL, n INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (batch, n))');
    await quiet.writeBatch(insert(1));
    expect(quiet.checkpointer!.started).toBe(false);
    await Promise.all([memory.close(), inline.close(), quiet.close()]);
  });

  it('kill -9 while the worker checkpoints loses no committed batch and leaves a sound file', async () => {
    const filename = fileName();
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'sqlite-checkpoint.test-helper.ts'), filename], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    let reported = 0;
    let checkpoints = 0;
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [batch, done] = line.split(' ').map(Number);
        reported = batch!;
        checkpoints = done!;
      }
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      // Past several auto-checkpoint bounds (1,000 pages ≈ 200 batches of 80 KB), with worker checkpoints done.
      await until('the writer to commit batches and the worker to checkpoint', () => reported >= 600 && checkpoints >= 3, 60_000).catch((error: Error) => {
        throw new Error(`${error.message} (batches ${reported}, checkpoints ${checkpoints}; the writer's stderr: ${errors || 'none'})`);
      });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const db = new Database(filename);
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const { batches, rows } = db.prepare('SELECT count(DISTINCT batch) AS batches, count(*) AS rows FROM rows').get() as { batches: number; rows: number };
      // Every batch reported as committed is there, each whole (20 rows), and batches are numbered without a gap.
      expect(batches).toBeGreaterThanOrEqual(reported);
      expect(rows).toBe(batches * 20);
      expect(db.prepare('SELECT max(batch) AS m FROM rows').get()).toEqual({ m: batches });
    } finally {
      db.close();
    }
  }, 90_000);
});
