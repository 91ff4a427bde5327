/**
 * `flowcrew credentials rotate-key` (the real CLI, as a separate process) while a real runtime keeps serving:
 * credentials keep resolving, flows keep deploying with them, an authenticated webhook keeps answering, and
 * credentials saved during the rotation end up under the new key.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
let dir: string;
let server: TestServer | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function flowcrew(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'runtime/src/cli/main.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: '', FLOWCREW_SECRET: '', FLOWCREW_SECRET_PREVIOUS: '', FLOWCREW_LOG_LEVEL: 'warn', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function keyIds(): Promise<string[]> {
  return JSON.parse(await readFile(path.join(dir, 'keyring.json'), 'utf8')).keys.map((k: { id: string }) => k.id);
}

describe('credentials rotate-key', () => {
  it('re-encrypts every credential under a new key while the runtime keeps resolving them, then drops the old key', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-rotate-'));
    server = await startTestServer({ dataDir: dir });
    const s = server;
    const [oldKey] = await keyIds();
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const created = await s.api('POST', '/api/v1/credentials', { name: `cred-${i}`, type: 'webhook-auth', fields: { header: 'X-Key', token: `token-${i}` } });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    const flow = { id: 'guarded', name: 'guarded', version: 0, settings: {}, nodes: [{ id: 'in', type: 'webhook', name: 'in', props: { url: '/guarded', auth: 'header' }, credentials: ids[0], wires: [] }] };
    expect((await s.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    expect((await s.api('POST', '/api/v1/flows/guarded/deploy')).status).toBe(200);

    // The running runtime's work during the rotation: resolve, redeploy (resolves the webhook's credential), call
    // the authenticated webhook, save new credentials. Any failure is a failure of "without downtime".
    let rotating = true;
    const problems: string[] = [];
    const createdDuring: string[] = [];
    let rounds = 0;
    const work = (async () => {
      while (rotating) {
        for (const [i, id] of ids.entries()) {
          const fields = await s.runtime.vault.resolve(id).catch((e: Error) => e.message);
          if ((fields as { token?: string })?.token !== `token-${i}`) problems.push(`resolve ${id}: ${JSON.stringify(fields)}`);
        }
        const deployed = await s.api('POST', '/api/v1/flows/guarded/deploy');
        if (deployed.status !== 200) problems.push(`deploy: ${deployed.status} ${JSON.stringify(deployed.body)}`);
        const hook = await fetch(`${s.url}/webhook/guarded`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-key': 'token-0' }, body: '{}' });
        if (hook.status !== 202) problems.push(`webhook: ${hook.status}`);
        const created = await s.api('POST', '/api/v1/credentials', { name: 'during', type: 'webhook-auth', fields: { token: `during-${rounds}` } });
        if (created.status !== 201) problems.push(`create: ${created.status}`);
        else createdDuring.push(created.body.id);
        rounds++;
      }
    })();

    const cli = await flowcrew({}, 'credentials', 'rotate-key', '-d', dir, '--grace', '500');
    rotating = false;
    await work;
    expect(cli.code, cli.stderr).toBe(0);
    const report = JSON.parse(cli.stdout);
    expect(report).toMatchObject({ generated: true, keySource: 'key ring file', failed: [], droppedKeys: [oldKey] });
    expect(report.reencrypted).toBeGreaterThanOrEqual(30);
    expect(rounds).toBeGreaterThan(0);
    expect(problems).toEqual([]);

    // Only the new key is left, and every credential (those made during the rotation too) is under it.
    expect(await keyIds()).toEqual([report.keyId]);
    const usage = await s.runtime.vault.keyUsage();
    expect(usage.length).toBe(30 + createdDuring.length);
    expect(new Set(usage.map((u) => u.keyId))).toEqual(new Set([report.keyId]));
    // The runtime keeps working after the rotation without a restart…
    for (const [i, id] of ids.entries()) expect(await s.runtime.vault.resolve(id)).toEqual({ header: 'X-Key', token: `token-${i}` });
    expect((await s.api('POST', '/api/v1/flows/guarded/deploy')).status).toBe(200);
    const after = await s.api('POST', '/api/v1/credentials', { name: 'after', type: 'webhook-auth', fields: { token: 'after' } });
    expect((await s.runtime.vault.keyUsage()).find((u) => u.id === after.body.id)?.keyId).toBe(report.keyId);
    // …and after one, with nothing but the new key.
    await s.stop();
    server = await startTestServer({ dataDir: dir });
    for (const id of [...ids, ...createdDuring, after.body.id]) expect(await server.runtime.vault.resolve(id)).toBeDefined();
    expect((await fetch(`${server.url}/webhook/guarded`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-key': 'token-0' }, body: '{}' })).status).toBe(202);
  }, 60_000);

  it('with FLOWCREW_SECRET: rotate by moving the old secret to FLOWCREW_SECRET_PREVIOUS; a wrong secret is refused at start', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-rotate-'));
    const old = { FLOWCREW_SECRET: 'the first secret, long and random enough' };
    const next = { FLOWCREW_SECRET: 'the second secret, also long and random' };
    // The runtime reads FLOWCREW_SECRET from the environment of its process.
    const withEnv = async <T>(env: Record<string, string>, work: () => Promise<T>): Promise<T> => {
      const saved = { FLOWCREW_SECRET: process.env.FLOWCREW_SECRET, FLOWCREW_SECRET_PREVIOUS: process.env.FLOWCREW_SECRET_PREVIOUS };
      Object.assign(process.env, { FLOWCREW_SECRET: '', FLOWCREW_SECRET_PREVIOUS: '', ...env });
      try {
        return await work();
      } finally {
        for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    };
    const id = await withEnv(old, async () => {
      server = await startTestServer({ dataDir: dir });
      const created = await server.api('POST', '/api/v1/credentials', { name: 'c', type: 'webhook-auth', fields: { token: 'kept' } });
      await server.stop();
      server = undefined;
      return created.body.id as string;
    });
    await expect(withEnv(next, () => startTestServer({ dataDir: dir }))).rejects.toThrow(/cannot be decrypted with the configured key\(s\).*Set FLOWCREW_SECRET to the secret they were written with/);

    const cli = await flowcrew({ ...next, FLOWCREW_SECRET_PREVIOUS: old.FLOWCREW_SECRET }, 'credentials', 'rotate-key', '-d', dir, '--grace', '0');
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ generated: false, keySource: 'FLOWCREW_SECRET', reencrypted: 1 });
    await withEnv(next, async () => {
      server = await startTestServer({ dataDir: dir });
      expect(await server.runtime.vault.resolve(id)).toEqual({ token: 'kept' });
    });
  }, 60_000);

  it('refuses to start on a key file readable by others or holding garbage, saying which file and what to do', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-rotate-'));
    server = await startTestServer({ dataDir: dir });
    await server.stop();
    server = undefined;
    const file = path.join(dir, 'keyring.json');
    await chmod(file, 0o640);
    await expect(startTestServer({ dataDir: dir })).rejects.toThrow(`key file ${file} has mode 640: it must be readable by its owner only (chmod 600 ${file})`);
    await writeFile(file, '{"format":"flowcrew-keyring/1"}', { mode: 0o600 });
    await chmod(file, 0o600);
    await expect(startTestServer({ dataDir: dir })).rejects.toThrow(`key ring file ${file} is not a Flowcrew key ring (/: must have required property 'current'; /: must have required property 'keys')`);
    const cli = await flowcrew({}, 'credentials', 'rotate-key', '-d', dir);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`flowcrew: key ring file ${file} is not a Flowcrew key ring`);
  }, 60_000);
});
