import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '@flowcrew/sdk';
import { openStorage } from '../storage/index.ts';
import type { Storage } from '../storage/types.ts';
import { ContextLimitError, ContextRegistry } from './context.ts';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const KB = 1024;
let dir: string;
let storage: Storage;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-context-'));
  storage = await openStorage({ dataDir: dir });
});
afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

/** A registry over the same database, as after a restart. */
async function reopen(): Promise<ContextRegistry> {
  await storage.close();
  storage = await openStorage({ dataDir: dir });
  return new ContextRegistry(storage, quiet, { contextValueBytes: 10 * KB, contextScopeBytes: 30 * KB });
}

describe('context size caps', () => {
  it('refuses a value larger than the per-value cap with a clear error, keeping what was stored', async () => {
    const registry = new ContextRegistry(storage, quiet, { contextValueBytes: 10 * KB, contextScopeBytes: 100 * KB });
    const flow = await registry.get('flow:f1');
    flow.set('note', 'small');
    expect(() => flow.set('note', 'x'.repeat(20 * KB))).toThrow(ContextLimitError);
    expect(() => flow.set('note', 'x'.repeat(20 * KB))).toThrow('context value "note" is 20 KB, more than the limit of 10 KB per value (FLOWCREW_CONTEXT_VALUE_MAX_KB)');
    expect(flow.get('note')).toBe('small');
    const after = await (await reopen()).get('flow:f1');
    expect(after.get('note')).toBe('small');
  });

  it('caps a flow’s context as a whole: its flow scope and its nodes’ scopes share one budget', async () => {
    const registry = new ContextRegistry(storage, quiet, { contextValueBytes: 10 * KB, contextScopeBytes: 25 * KB });
    const flow = await registry.get('flow:f:1');
    const node = await registry.get('node:f:1:n:2');
    const other = await registry.get('flow:f2');
    const global = await registry.get('global');
    flow.set('a', 'x'.repeat(9 * KB));
    node.set('b', 'x'.repeat(9 * KB));
    expect(() => flow.set('c', 'x'.repeat(9 * KB))).toThrow(/refused: the context of flow "f:1" \(flow and node scopes\) would hold 27 KB, more than its limit of 25 KB \(FLOWCREW_CONTEXT_MAX_MB\)/);
    expect(() => node.set('c', 'x'.repeat(9 * KB))).toThrow(/flow "f:1"/);
    // Other flows and global context have budgets of their own.
    other.set('c', 'x'.repeat(9 * KB));
    global.set('c', 'x'.repeat(9 * KB));
    // Replacing a value with one no larger, or deleting, always works and frees room.
    flow.set('a', 'y'.repeat(9 * KB));
    flow.set('a', undefined);
    flow.set('c', 'x'.repeat(9 * KB));
    expect(flow.keys().sort()).toEqual(['c']);
  });

  it('stops a run writing 10 MB eight times from growing the database: every write is refused', async () => {
    const registry = new ContextRegistry(storage, quiet);
    const flow = await registry.get('flow:bomb');
    const big = 'x'.repeat(10 * 1048576);
    for (let i = 0; i < 8; i++) expect(() => flow.set(`k${i}`, big)).toThrow(/more than the limit of 1 MB per value/);
    expect(flow.keys()).toEqual([]);
    const after = await (await reopen()).get('flow:bomb');
    expect(after.keys()).toEqual([]);
  });

  it('keeps values stored over the cap readable after a restart, and only refuses growth', async () => {
    const generous = new ContextRegistry(storage, quiet, { contextValueBytes: 100 * KB, contextScopeBytes: 100 * KB });
    const before = await generous.get('global');
    before.set('big', 'x'.repeat(40 * KB));
    const strict = await (await reopen()).get('global');
    expect((strict.get('big') as string).length).toBe(40 * KB);
    expect(() => strict.set('more', 'y')).toThrow(/global context would hold/);
    strict.set('big', undefined);
    strict.set('more', 'y');
    expect(strict.keys()).toEqual(['more']);
  });

  it('refuses values that are not JSON data', async () => {
    const flow = await new ContextRegistry(storage, quiet).get('flow:f');
    expect(() => flow.set('fn', () => 1)).toThrow('context value "fn" is not JSON data (got function)');
    expect(() => flow.set('n', 10n)).toThrow(/BigInt/);
  });
});

describe('context persistence', () => {
  it('deletes a key set to undefined, also after a restart; null stays a value', async () => {
    const flow = await new ContextRegistry(storage, quiet).get('flow:f');
    flow.set('gone', 1);
    flow.set('kept', null);
    flow.set('gone', undefined);
    expect(flow.keys()).toEqual(['kept']);
    const after = await (await reopen()).get('flow:f');
    expect(after.keys()).toEqual(['kept']);
    expect(after.get('kept')).toBeNull();
  });
});
