/**
 * Flow version history in storage, on SQLite and on a REAL PostgreSQL (scripts/services): every changed save kept,
 * unchanged saves create nothing, deploys recorded, history deleted with its flow, and migration 9 backfills the
 * revisions that existed before it.
 */
import { describe, expect, it } from 'vitest';
import { storageBackends } from '../testing/storage-backends.ts';
import { flowDoc } from '../storage/fixtures.ts';
import { migrate, MIGRATIONS } from '../storage/migrations.ts';
import type { SqlStorage } from '../storage/sql-storage.ts';
import { VersionStatements } from '../storage/versions.ts';
import { VersionConflictError } from '../storage/types.ts';

const backends = storageBackends('versions');

describe.each(backends)('flow versions on %s', (_name, blank) => {
  async function open(): Promise<SqlStorage> {
    const storage = await blank();
    await storage.migrate();
    return storage;
  }

  it('keeps every changed save; an unchanged save (even with keys reordered) creates no version', async () => {
    const storage = await open();
    try {
      const v1 = await storage.saveFlow(flowDoc('f'), 0);
      expect(v1.flow.version).toBe(1);
      // The client sends back what it read (version 1) with the keys in another order.
      const { nodes, name, ...rest } = v1.flow;
      const again = await storage.saveFlow({ nodes, ...rest, name }, 1);
      expect(again.flow.version).toBe(1);
      expect((await storage.saveFlow(v1.flow)).flow.version).toBe(1); // upsert without a version: unchanged too
      const v2 = await storage.saveFlow({ ...v1.flow, name: 'Renamed' }, 1);
      expect(v2.flow.version).toBe(2);
      const v3 = await storage.saveFlow({ ...v2.flow, name: 'Renamed again' });
      expect(v3.flow.version).toBe(3);
      const list = await storage.versions.list('f');
      expect(list.map((v) => [v.version, v.name])).toEqual([
        [3, 'Renamed again'],
        [2, 'Renamed'],
        [1, 'Flow f'],
      ]);
      const old = await storage.versions.get('f', 1);
      expect(old?.document.name).toBe('Flow f');
      expect(old?.document.version).toBe(1);
      expect(await storage.versions.get('f', 9)).toBeNull();
    } finally {
      await storage.close();
    }
  });

  it('a stale save is still a conflict, whether or not it changes anything', async () => {
    const storage = await open();
    try {
      const v1 = await storage.saveFlow(flowDoc('g'), 0);
      await storage.saveFlow({ ...v1.flow, name: 'B' }, 1);
      await expect(storage.saveFlow({ ...v1.flow, name: 'C' }, 1)).rejects.toBeInstanceOf(VersionConflictError);
      // Same content as version 1 but based on version 1 while 2 is current: the writer has not seen version 2.
      await expect(storage.saveFlow(v1.flow, 1)).rejects.toBeInstanceOf(VersionConflictError);
      await expect(storage.saveFlow(v1.flow, 0)).rejects.toBeInstanceOf(VersionConflictError);
      expect((await storage.versions.list('g')).length).toBe(2);
    } finally {
      await storage.close();
    }
  });

  it('records deploys and undeploys with who did them; a refused deploy records nothing', async () => {
    const storage = await open();
    try {
      await storage.saveFlow(flowDoc('d'), 0);
      await storage.setDeployed('d', 1);
      await storage.versions.attributeDeploy('d', 1, 'alice');
      await storage.saveFlow({ ...flowDoc('d'), name: 'two' }, 1);
      await expect(storage.setDeployed('d', 1)).rejects.toBeInstanceOf(VersionConflictError);
      await storage.setDeployed('d', null);
      await storage.versions.attributeDeploy('d', null, 'bob');
      const history = await storage.versions.deployments('d');
      expect(history.map((h) => [h.version, h.deployedBy])).toEqual([
        [null, 'bob'],
        [1, 'alice'],
      ]);
      await storage.versions.attribute('d', 2, 'carol', 'restored from version 1');
      await storage.versions.attribute('d', 2, 'mallory'); // the first attribution stays
      const [latest] = await storage.versions.list('d', { limit: 1 });
      expect([latest?.createdBy, latest?.note]).toEqual(['carol', 'restored from version 1']);
    } finally {
      await storage.close();
    }
  });

  it('two deploys in the same millisecond still list newest first (a deploy, then an undeploy)', async () => {
    const storage = await open();
    try {
      await storage.saveFlow(flowDoc('t'), 0);
      const at = Date.now();
      await storage.driver.writeBatch([VersionStatements.deployed('t', 1, at), VersionStatements.deployed('t', null, at)]);
      await storage.driver.writeBatch([VersionStatements.deployed('t', 'current', at)]);
      const history = await storage.versions.deployments('t');
      expect(history.map((h) => h.version)).toEqual([1, null, 1]);
      expect(history.map((h) => h.deployedAt)).toEqual([at + 2, at + 1, at]);
    } finally {
      await storage.close();
    }
  });

  it('an import saves a version per flow and records its deploy; deleting a flow deletes its history', async () => {
    const storage = await open();
    try {
      await storage.saveFlows([{ flow: flowDoc('i1'), expectedVersion: 0 }, { flow: flowDoc('i2'), expectedVersion: 0 }], { deploy: true });
      expect((await storage.versions.list('i1')).map((v) => v.version)).toEqual([1]);
      expect((await storage.versions.deployments('i2')).map((d) => d.version)).toEqual([1]);
      await storage.deleteFlow('i1');
      expect(await storage.versions.list('i1')).toEqual([]);
      const again = await storage.saveFlow({ ...flowDoc('i1'), name: 'new life' }, 0);
      expect(again.flow.version).toBe(1);
      expect((await storage.versions.get('i1', 1))?.document.name).toBe('new life');
    } finally {
      await storage.close();
    }
  });

  it('migration 9 starts the history with the current and the deployed revision of existing flows', async () => {
    const storage = await blank();
    try {
      await migrate(storage.driver, MIGRATIONS.filter((m) => m.version < 9));
      const now = Date.now();
      await storage.driver.writeBatch([
        {
          sql: `INSERT INTO flows (id, name, version, document, deployed_version, deployed_document, created_at, updated_at, project_id)
                VALUES (?, ?, 3, ?, 2, ?, ?, ?, 'default')`,
          params: ['old', 'Old', JSON.stringify(flowDoc('old', { name: 'Old' })), JSON.stringify(flowDoc('old', { name: 'Deployed' })), now, now],
        },
      ]);
      await storage.migrate();
      expect((await storage.versions.list('old')).map((v) => [v.version, v.name])).toEqual([
        [3, 'Old'],
        [2, 'Old'],
      ]);
      expect((await storage.versions.get('old', 2))?.document.name).toBe('Deployed');
      expect((await storage.versions.deployments('old')).map((d) => d.version)).toEqual([2]);
      // No content hash yet: the first save after the upgrade is a new version, the next unchanged one is not.
      const current = (await storage.getFlow('old'))!.flow;
      expect((await storage.saveFlow(current, 3)).flow.version).toBe(4);
      expect((await storage.saveFlow(current, 4)).flow.version).toBe(4);
    } finally {
      await storage.close();
    }
  });
});
