/**
 * What the executor shares with nodes: live credentials following the vault (edits made by this runtime and by
 * another process on the same database), resources retired with the old revision, blobs collected with retention.
 */
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '@flowcrew/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialVault } from '../credentials.ts';
import { openStorage } from '../storage/index.ts';
import type { Storage } from '../storage/types.ts';
import { NodeServicesHost } from './node-services.ts';

let dir: string;
let storage: Storage;
let vault: CredentialVault;
let host: NodeServicesHost;
const lines: string[] = [];
const log: Logger = { debug: () => {}, info: (m) => void lines.push(m), warn: (m) => void lines.push(m), error: (m) => void lines.push(m) };

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-node-services-'));
  storage = await openStorage({ dataDir: dir });
  vault = await CredentialVault.open(storage, dir);
  host = new NodeServicesHost({ storage, log, dataDir: dir, resolve: (id) => vault.resolve(id), credentialPollMs: 0, blobGcMs: 0 });
  lines.length = 0;
});
afterEach(async () => {
  await host.close();
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('live credentials', () => {
  it('shares one live credential per id; an edit here bumps its revision, tells listeners and retires its resources', async () => {
    const { id } = await vault.save({ name: 'db', type: 'postgres', fields: { host: 'a', password: 'one-secret' } });
    const a = await host.hold(id, 'postgres');
    const b = await host.hold(id, 'postgres');
    expect(a).toBe(b);
    expect([a!.revision, a!.fields, a!.type]).toEqual([1, { host: 'a', password: 'one-secret' }, 'postgres']);
    const lease = await host.pools.acquire('db:pool', async () => 'pool@1', () => {}, { credential: { id, revision: 1 } });
    const heard: number[] = [];
    a!.onChange((c) => heard.push(c.revision));

    await vault.update(id, { fields: { password: 'two-secret' } });
    expect(await host.credentialChanged(id)).toBe(true);
    expect([a!.revision, a!.fields.password, heard]).toEqual([2, 'two-secret', [2]]);
    expect(lease.stale).toBe(true);
    // A rename changes no field: no new revision, nothing reconnects.
    await vault.update(id, { name: 'renamed' });
    expect(await host.credentialChanged(id)).toBe(false);
    expect(a!.revision).toBe(2);
    lease.release();
  });

  it('finds an edit made by another process by polling the stored credential', async () => {
    const { id } = await vault.save({ name: 'db', type: 'postgres', fields: { password: 'first-value' } });
    const live = await host.hold(id, 'postgres');
    const elsewhere = await openStorage({ dataDir: dir });
    try {
      const otherVault = await CredentialVault.open(elsewhere, dir);
      await otherVault.update(id, { fields: { password: 'second-value' } });
    } finally {
      await elsewhere.close();
    }
    expect(live!.revision).toBe(1);
    await host.poll();
    expect([live!.revision, live!.fields.password]).toEqual([2, 'second-value']);
    await host.poll(); // unchanged since: nothing decrypted, nothing bumped
    expect(live!.revision).toBe(2);
  });

  it('closes what was opened with a deleted credential, and forgets a credential no node holds', async () => {
    const { id } = await vault.save({ name: 'db', type: 'postgres', fields: { password: 'gone-soon' } });
    await host.hold(id, 'postgres');
    const closed: string[] = [];
    const lease = await host.pools.acquire('db:pool', async () => 'pool', (v) => void closed.push(v), { credential: { id, revision: 1 } });
    await vault.delete(id);
    await host.credentialChanged(id);
    expect(lease.stale).toBe(true);
    lease.release();
    await new Promise((r) => setTimeout(r, 0));
    expect(closed).toEqual(['pool']);
    expect(lines.some((l) => l.includes(`credential "${id}" is in use by deployed nodes but was deleted`))).toBe(true);
    host.unhold(id);
    expect(await host.credentialChanged(id)).toBe(false);
  });

  it('keeps a lingering resource for the next user of an unchanged credential; a changed one gets the next revision', async () => {
    const { id } = await vault.save({ name: 'db', type: 'postgres', fields: { password: 'lingering-1' } });
    const open = async () => `pool for ${(await vault.resolve(id))!.password}`;
    const first = await host.hold(id, 'postgres');
    (await host.pools.acquire('db:pool', open, () => {}, { credential: first!, idleMs: 60_000 })).release();
    host.unhold(id); // a tool call's node, gone
    const second = await host.hold(id, 'postgres');
    expect(second!.revision).toBe(1);
    expect((await host.pools.acquire('db:pool', open, () => {}, { credential: second! })).value).toBe('pool for lingering-1');
    host.unhold(id);
    await vault.update(id, { fields: { password: 'lingering-2' } }); // edited while no node used it
    const third = await host.hold(id, 'postgres');
    expect([third!.revision, third!.fields.password]).toEqual([2, 'lingering-2']);
    expect((await host.pools.acquire('db:pool', open, () => {}, { credential: third! })).value).toBe('pool for lingering-2');
  });

  it('gives nothing for a credential that does not exist', async () => {
    expect(await host.hold('missing', 'postgres')).toBeUndefined();
  });
});

describe('blobs and run retention', () => {
  it('keeps the blobs of kept runs and removes those of deleted runs', async () => {
    await storage.saveFlow({ id: 'f', name: 'f', nodes: [] } as never);
    const run = (id: string) => ({ id, flowId: 'f', flowVersion: 1, status: 'succeeded' as const, triggerNodeId: 'n', input: {}, error: null, parentRunId: null, createdAt: Date.now(), startedAt: Date.now(), finishedAt: Date.now() });
    await storage.acceptRun(run('kept-run'), []);
    await storage.acceptRun(run('deleted-run'), []);
    const kept = await host.blobs.put('kept content', { runId: 'kept-run' });
    const dropped = await host.blobs.put('dropped content', { runId: 'deleted-run' });
    await storage.deleteRun('deleted-run');
    // Past gc's grace period for fresh blobs.
    const old = new Date(Date.now() - 3_600_000);
    const data = path.join(dir, 'blobs', 'data');
    for (const prefix of await readdir(data)) for (const file of await readdir(path.join(data, prefix))) await utimes(path.join(data, prefix, file), old, old);
    await host.collectBlobs();
    await expect(host.blobs.get(kept)).resolves.toBeDefined();
    await expect(host.blobs.get(dropped)).rejects.toThrow(/is gone/);
    expect(lines.some((l) => /blobs: removed 1 \(15 bytes\)/.test(l))).toBe(true);
  });
});
