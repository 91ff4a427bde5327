import { describe, expect, it, vi } from 'vitest';
import { RunPruner, applyRetention, decideRetention } from './retention.ts';
import { createSqliteStorage } from './sqlite.ts';
import { makeRun } from './storage.suite.ts';
import type { RetentionPolicy, RunStatus } from './types.ts';

const NOW = 1_000_000;
const run = (status: RunStatus, createdAt = NOW - 10) => ({ status, createdAt });

describe('decideRetention', () => {
  it('keeps unfinished runs whatever the policy', () => {
    for (const status of ['queued', 'running', 'waiting'] as const) {
      expect(decideRetention({ mode: 'none', maxAgeMs: 1 }, run(status, 0), { now: NOW })).toBe('keep');
    }
  });

  it.each([
    ['all', 'succeeded', 'keep'],
    ['all', 'failed', 'keep'],
    ['all', 'cancelled', 'keep'],
    ['failed', 'succeeded', 'delete'],
    ['failed', 'failed', 'keep'],
    ['failed', 'cancelled', 'delete'],
    ['none', 'failed', 'delete'],
    ['none', 'succeeded', 'delete'],
  ] as const)('mode %s, run %s → %s', (mode, status, expected) => {
    expect(decideRetention({ mode, maxAgeMs: 0 }, run(status), { now: NOW })).toBe(expected);
  });

  it("the flow's retention setting overrides the runtime default", () => {
    const policy: RetentionPolicy = { mode: 'all', maxAgeMs: 0 };
    expect(decideRetention(policy, run('succeeded'), { flowRetention: 'failed', now: NOW })).toBe('delete');
    expect(decideRetention({ ...policy, mode: 'none' }, run('succeeded'), { flowRetention: 'all', now: NOW })).toBe('keep');
  });

  it('a finished run older than maxAgeMs is deleted even in mode all', () => {
    expect(decideRetention({ mode: 'all', maxAgeMs: 100 }, run('failed', NOW - 101), { now: NOW })).toBe('delete');
    expect(decideRetention({ mode: 'all', maxAgeMs: 100 }, run('failed', NOW - 99), { now: NOW })).toBe('keep');
  });
});

describe('applyRetention', () => {
  it('deletes through storage only when the decision is delete', async () => {
    const storage = { deleteRun: vi.fn(async () => {}) };
    const r = makeRun({ status: 'succeeded', createdAt: Date.now(), finishedAt: Date.now() });
    expect(await applyRetention(storage, { mode: 'failed', maxAgeMs: 0 }, r)).toBe(true);
    expect(storage.deleteRun).toHaveBeenCalledWith(r.id);
    expect(await applyRetention(storage, { mode: 'all', maxAgeMs: 0 }, r)).toBe(false);
    expect(storage.deleteRun).toHaveBeenCalledTimes(1);
  });
});

describe('RunPruner', () => {
  it('prunes finished runs older than maxAgeMs on a real storage', async () => {
    const storage = createSqliteStorage({ filename: ':memory:' });
    await storage.migrate();
    try {
      const old = makeRun({ status: 'succeeded', createdAt: NOW - 5000, finishedAt: NOW - 4000 });
      const young = makeRun({ status: 'succeeded', createdAt: NOW - 10, finishedAt: NOW - 5 });
      const oldActive = makeRun({ status: 'running', createdAt: NOW - 5000 });
      for (const r of [old, young, oldActive]) await storage.acceptRun(r, []);
      const pruner = new RunPruner(storage, { mode: 'all', maxAgeMs: 1000 }, { now: () => NOW });
      expect(await pruner.pruneOnce()).toBe(1);
      expect(await storage.getRun(old.id)).toBeNull();
      expect(await storage.getRun(young.id)).not.toBeNull();
      expect(await storage.getRun(oldActive.id)).not.toBeNull();
    } finally {
      await storage.close();
    }
  });

  it('does nothing without an age limit; start/stop run ticks and never overlap', async () => {
    const pruneRuns = vi.fn(async () => 0);
    expect(await new RunPruner({ pruneRuns }, { mode: 'all', maxAgeMs: 0 }).pruneOnce()).toBe(0);
    expect(pruneRuns).not.toHaveBeenCalled();

    vi.useFakeTimers();
    try {
      let release!: () => void;
      const slow = vi.fn(() => new Promise<number>((r) => (release = () => r(3))));
      const pruner = new RunPruner({ pruneRuns: slow }, { mode: 'all', maxAgeMs: 10 }, { intervalMs: 100, now: () => NOW });
      pruner.start();
      expect(slow).toHaveBeenCalledWith(NOW - 10);
      await vi.advanceTimersByTimeAsync(350); // still running: later ticks share it
      expect(slow).toHaveBeenCalledTimes(1);
      release();
      await vi.advanceTimersByTimeAsync(100);
      expect(slow).toHaveBeenCalledTimes(2);
      release();
      await pruner.stop();
      await vi.advanceTimersByTimeAsync(1000);
      expect(slow).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports failures to onError and keeps going', async () => {
    const onError = vi.fn();
    const pruner = new RunPruner({ pruneRuns: async () => Promise.reject(new Error('db down')) }, { mode: 'all', maxAgeMs: 5 }, { onError });
    pruner.start();
    await pruner.stop();
    await new Promise((r) => setImmediate(r));
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'db down' }));
  });
});
