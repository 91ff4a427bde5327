import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { SqliteVecStore } from './sqlite-vec-store.ts';
import { defineVectorStoreSuite } from './vector-store.suite.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'flowcrew-vec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

defineVectorStoreSuite('embedded vector store (SQLite + sqlite-vec)', async () => SqliteVecStore.open(path.join(dir, 'vectors.sqlite')));
