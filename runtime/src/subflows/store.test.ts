/**
 * Migration 11 on SQLite and on a REAL PostgreSQL (scripts/services): flow test suites kept per flow (replaced on
 * save), sub-flow versions immutable (a second insert of the same number loses, as two concurrent publishers would).
 */
import { describe, expect, it } from 'vitest';
import { storageBackends } from '../testing/storage-backends.ts';
import { FlowTestStore } from '../flowtest/store.ts';
import type { SubflowDefinition } from './definition.ts';
import { SubflowStore } from './store.ts';

const backends = storageBackends('subflows');

const definition = (version: number, name = 'VAT'): SubflowDefinition => ({ id: 'vat', version, name, nodes: [{ id: 'in', type: 'subflow-in', wires: [['out']] }, { id: 'out', type: 'subflow-out' }] });

describe.each(backends)('migration 11 on %s', (_name, open) => {
  it('keeps one test suite per flow, replaced on save', async () => {
    const storage = await open();
    await storage.migrate();
    try {
      const tests = new FlowTestStore(storage.driver);
      expect(await tests.get('f')).toBeNull();
      await tests.set('f', { flow: 'f', cases: [{ name: 'a', input: { node: 'x' } }] }, 'ed', 5);
      await tests.set('f', { flow: 'f', cases: [{ name: 'b', input: { node: 'y' } }] }, 'ann', 6);
      expect(await tests.get('f')).toEqual({ flowId: 'f', suite: { flow: 'f', cases: [{ name: 'b', input: { node: 'y' } }] }, updatedAt: 6, updatedBy: 'ann' });
      // Migration 17: the text a suite was typed as is kept beside it.
      await tests.set('f', { flow: 'f', cases: [] }, 'ann', 7, '# none yet\ncases: []\n');
      expect(await tests.get('f')).toMatchObject({ source: '# none yet\ncases: []\n', updatedAt: 7 });
      expect(await tests.remove('f')).toBe(true);
      expect(await tests.remove('f')).toBe(false);
    } finally {
      await storage.close();
    }
  });

  it('keeps every sub-flow version; a version number is taken once', async () => {
    const storage = await open();
    await storage.migrate();
    try {
      const store = new SubflowStore(storage.driver);
      expect(await store.insert(definition(1), 'default', 'ed', 10)).toBe(true);
      expect(await store.insert(definition(2, 'VAT 2'), 'default', 'ed', 11)).toBe(true);
      expect(await store.insert(definition(2, 'someone else'), 'default', 'ann', 12)).toBe(false);
      expect((await store.versions('vat')).map((v) => [v.definition.version, v.definition.name, v.createdBy])).toEqual([
        [1, 'VAT', 'ed'],
        [2, 'VAT 2', 'ed'],
      ]);
      expect((await store.all()).length).toBe(2);
    } finally {
      await storage.close();
    }
  });
});
