/**
 * Embedded runtimes sharing one PostgreSQL without Redis follow each other's deploys (LISTEN/NOTIFY,
 * cluster/pg-channel.ts): a flow deployed on one is deployed on the other, an undeploy too. Two whole runtimes in
 * this process on a schema of their own; a third runtime on another schema of the same database hears nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { Runtime } from '../runtime.ts';
import { TEST_DATABASE_URL as pgUrl } from '../testing/storage-backends.ts';

const schemas = [`follow_${randomBytes(3).toString('hex')}`, `follow_other_${randomBytes(3).toString('hex')}`];
let dir: string;
const runtimes: Runtime[] = [];

async function embedded(schema: string, name: string): Promise<Runtime> {
  const env = {
    DATABASE_URL: `${pgUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    FLOWCREW_INSTANCE_ID: `${schema}-${name}`,
    FLOWCREW_KEYRING_FILE: path.join(dir, 'keyring.json'),
    FLOWCREW_FLOWS_DIR: '',
  };
  const runtime = await Runtime.create(loadConfig(env, { dataDir: path.join(dir, name), logLevel: 'error' }), { loadExamples: false });
  runtimes.push(runtime);
  await runtime.resumeRuns();
  return runtime;
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-follow-'));
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  for (const schema of schemas) await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
}, 60_000);

afterAll(async () => {
  for (const runtime of runtimes.reverse()) await runtime.close().catch(() => {});
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('embedded runtimes on one PostgreSQL (no Redis)', () => {
  it("follow each other's deploys and undeploys; another schema's runtime does not", async () => {
    const a = await embedded(schemas[0]!, 'a');
    const b = await embedded(schemas[0]!, 'b');
    const other = await embedded(schemas[1]!, 'other');
    await a.createFlow({ id: 'shared', name: 'shared', version: 0, nodes: [{ id: 'in', type: 'inject', wires: [] }] });
    await other.createFlow({ id: 'shared', name: 'shared', version: 0, nodes: [{ id: 'in', type: 'inject', wires: [] }] });
    await a.deployFlow('shared');
    await until(() => b.executor.deployed.has('shared'), "b to deploy a's flow");
    expect(b.executor.deployed.get('shared')!.flow.version).toBe(a.executor.deployed.get('shared')!.flow.version);

    await b.undeployFlow('shared');
    await until(() => !a.executor.deployed.has('shared'), "a to follow b's undeploy");
    // The other schema's runtime heard the same database's notifications and ignored them.
    expect(other.executor.deployed.has('shared')).toBe(false);
  }, 120_000);
});
