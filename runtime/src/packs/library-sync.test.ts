/**
 * Packs and the sub-flow library across processes: two embedded runtimes sharing a real PostgreSQL database and a user
 * node directory, WITHOUT Redis: each runtime's own LibrarySync announces over PostgreSQL LISTEN/NOTIFY
 * (cluster/channel.ts; queue mode uses the same sync over Redis, its transport tested in cluster/channel.test.ts).
 * A sub-flow published on one is runnable on the other, a pack loaded, disabled, enabled and removed on one follows on
 * the other, without a restart; a sub-flow published while the other's channel was down is caught up when it is back.
 * (Processes on separate disks install the announced version with their own npm run: the palette manager, tested
 * against verdaccio in palette.test.ts.)
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../testing/child-runtime.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { scratchDatabase } from '../testing/storage-backends.ts';
import type { LibrarySync } from './library-sync.ts';

const scratch = await scratchDatabase('libsync');

const PACK = `flowcrew-nodes-sync-${process.pid}`;
const TYPE = `sync-hello-${process.pid}`;

/** A minimal pack written straight into the shared user node directory (what npm would have put there). */
async function writePack(userDir: string, version: string, greeting: string): Promise<string> {
  const dir = path.join(userDir, 'node_modules', PACK);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: PACK, version, type: 'module', flowcrew: { nodes: ['./index.js'], sdkApi: 1 } }));
  await writeFile(
    path.join(dir, 'index.js'),
    `export const nodes = [{ type: '${TYPE}', category: 'transform', label: 'hello', inputs: 1, outputs: 1, props: { type: 'object' }, help: 'says ${greeting}',
      create: () => ({ onInput: (msg) => ({ ...msg, payload: '${greeting}' }) }) }];\n`,
  );
  return dir;
}

describe.skipIf(!scratch.reachable)('library sync across embedded runtimes sharing PostgreSQL (LISTEN/NOTIFY, no Redis)', () => {
  let userDir = '';
  let a: TestServer;
  let b: TestServer;
  const syncs = (): LibrarySync[] => [a.runtime.librarySync!, b.runtime.librarySync!];

  beforeAll(async () => {
    await scratch.create();
    userDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-libsync-'));
    const env = { env: { FLOWCREW_USER_NODES_DIR: userDir } };
    a = await startTestServer({ databaseUrl: scratch.url }, env);
    b = await startTestServer({ databaseUrl: scratch.url }, env);
    expect(a.runtime.librarySync).toBeTruthy();
    expect(b.runtime.librarySync).toBeTruthy();
  }, 120_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await scratch.drop();
    if (userDir) await rm(userDir, { recursive: true, force: true });
  });

  const definition = (id: string, greeting: string) => ({
    id,
    name: 'Greet',
    nodes: [
      { id: 'in', type: 'subflow-in', wires: [['set']] },
      { id: 'set', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: greeting, tot: 'str' }] }, wires: [['out']] },
      { id: 'out', type: 'subflow-out' },
    ],
  });

  it('a sub-flow published on one process is in the palette of the other and runs there', async () => {
    const id = `greet-${process.pid}`;
    expect((await a.api('POST', '/api/v1/subflows', definition(id, 'hello v1'))).status).toBe(201);
    await waitFor('the sub-flow on the other process', async () => ((await b.api('GET', `/api/v1/subflows/${id}`)).status === 200 ? true : undefined));
    expect(b.runtime.registry.get(`subflow:${id}`)).toBeDefined();

    const flow = { id: `uses-${process.pid}`, name: 'uses', nodes: [{ id: 'in', type: 'inject', wires: [['call']] }, { id: 'call', type: `subflow:${id}`, props: { version: 1 }, wires: [['out']] }, { id: 'out', type: 'debug' }] };
    expect((await b.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    expect((await b.api('POST', `/api/v1/flows/${flow.id}/deploy`)).status).toBe(200);
    const started = await b.api('POST', `/api/v1/flows/${flow.id}/runs`, {});
    const run = await b.waitRun(started.body.runId, 30_000);
    expect([run.status, run.error]).toEqual(['succeeded', null]);
    expect(run.invocations.find((i: { nodeId: string }) => i.nodeId === 'call').outputs[0].msg.payload).toBe('hello v1');

    expect((await a.api('POST', '/api/v1/subflows', definition(id, 'hello v2'))).status).toBe(201);
    await waitFor('version 2 on the other process', async () => (b.runtime.subflows?.version(id, 2) ? true : undefined));
    expect((await b.api('GET', `/api/v1/subflows/${id}`)).body.definition.version).toBe(2);
  });

  it('a pack loaded, upgraded, disabled, enabled and removed on one process follows on the other', async () => {
    const dir = await writePack(userDir, '1.0.0', 'hi');
    await a.runtime.registry.reloadPackage(dir, 'user');
    await waitFor('the pack on the other process', async () => (b.runtime.registry.get(TYPE) ? true : undefined));
    expect(b.runtime.registry.pack(PACK)).toMatchObject({ version: '1.0.0', status: 'loaded', source: 'user' });

    await writePack(userDir, '1.1.0', 'hello');
    await a.runtime.registry.reloadPackage(dir, 'user');
    await waitFor('the upgrade on the other process', async () => (b.runtime.registry.pack(PACK)?.version === '1.1.0' ? true : undefined));
    expect(b.runtime.registry.get(TYPE)?.help).toBe('says hello');

    await a.runtime.registry.disablePackage(PACK);
    await waitFor('the pack disabled on the other process', async () => (b.runtime.registry.pack(PACK)?.status === 'disabled' ? true : undefined));
    expect(b.runtime.registry.get(TYPE)).toBeUndefined();

    await a.runtime.registry.enablePackage(PACK);
    await waitFor('the pack enabled on the other process', async () => (b.runtime.registry.get(TYPE) ? true : undefined));

    await rm(dir, { recursive: true, force: true });
    a.runtime.registry.unloadPackage(PACK);
    await waitFor('the pack removed on the other process', async () => (b.runtime.registry.pack(PACK) === undefined ? true : undefined));
    expect(syncs().every((s) => s.stats.failed === 0)).toBe(true);
  });

  it("a sub-flow published while the other's channel was down is caught up when it is back", async () => {
    const id = `late-${process.pid}`;
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    try {
      const name = `flowcrew flowcrew_library ${b.runtime.config.cluster.instanceId}`.slice(0, 63);
      const listening = async () => (await client.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [name])).rows.map((r: { pid: number }) => r.pid);
      const before = await listening();
      expect(before.length).toBe(1);
      await client.query('SELECT pg_terminate_backend($1)', [before[0]]);
      await waitFor("the other's channel down", async () => ((await listening()).length === 0 ? true : undefined));
      const seen = b.runtime.librarySync!.stats.applied + b.runtime.librarySync!.stats.caughtUp;
      expect((await a.api('POST', '/api/v1/subflows', definition(id, 'late'))).status).toBe(201);
      // Reopened after its pause (5 s), then caught up from the database whether or not the message got through.
      await waitFor('the sub-flow on the other process', async () => (b.runtime.subflows?.version(id, 1) ? true : undefined), 60_000);
      await waitFor("the other's channel back", async () => ((await listening()).length === 1 ? true : undefined), 60_000);
      expect(b.runtime.librarySync!.stats.applied + b.runtime.librarySync!.stats.caughtUp).toBeGreaterThan(seen);
    } finally {
      await client.end();
    }
  }, 90_000);
});
