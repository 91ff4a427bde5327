import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../testing/server.ts';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
let dir: string;

async function flowcrew(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'runtime/src/cli/main.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: '', FLOWCREW_LOG_LEVEL: 'error' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Runs the CLI with `stdin` piped in. */
function flowcrewWithInput(stdin: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'runtime/src/cli/main.ts', ...args], { cwd: repoRoot, env: { ...process.env, DATABASE_URL: '', FLOWCREW_LOG_LEVEL: 'error' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('flowcrew CLI', () => {
  it('run: executes a flow file once and prints the run with its invocations', async () => {
    const { code, stdout } = await flowcrew('run', 'flows/function-scoring.json', '--input', '{"payload":{"email":"a@b.example","employees":300,"visits":20}}');
    expect(code).toBe(0);
    const runRecord = JSON.parse(stdout);
    expect(runRecord.status).toBe('succeeded');
    const hot = runRecord.invocations.find((i: { nodeId: string }) => i.nodeId === 'hot');
    expect(hot.input.payload.score).toBe(100);
  }, 60_000);

  it('validate: prints each problem with its JSON pointer and exits 1', async () => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ id: 'x', name: 'x', nodes: [{ id: 'a', type: 'nope' }, { id: 'b', type: 'debug', wires: [['zz']] }] }));
    const { code, stdout } = await flowcrew('validate', file);
    expect(code).toBe(1);
    expect(stdout).toContain('/nodes/0/type: unknown node type "nope"');
    expect(stdout).toContain('/nodes/1/wires');
    const good = await flowcrew('validate', 'flows/orders-webhook.json');
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('valid');
  }, 60_000);

  it('validate: says clearly when the file is not JSON', async () => {
    const file = path.join(dir, 'broken.json');
    await writeFile(file, '{ "id": ');
    const { code, stderr } = await flowcrew('validate', file);
    expect(code).toBe(1);
    expect(stderr).toMatch(/is not valid JSON/);
  }, 60_000);

  it('import then export round-trips a flow through a data directory', async () => {
    const dataDir = path.join(dir, 'data');
    const imported = await flowcrew('import', 'flows/orders-webhook.json', '--data-dir', dataDir);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout).flows[0]).toMatchObject({ id: 'orders', version: 1 });
    const out = path.join(dir, 'orders.json');
    const exported = await flowcrew('export', 'orders', '--data-dir', dataDir, '-o', out);
    expect(exported.code).toBe(0);
    const original = JSON.parse(await readFile(path.join(repoRoot, 'flows/orders-webhook.json'), 'utf8'));
    const roundTripped = JSON.parse(await readFile(out, 'utf8'));
    expect(roundTripped.nodes.map((n: { id: string }) => n.id)).toEqual(original.nodes.map((n: { id: string }) => n.id));
    const again = await flowcrew('import', 'flows/orders-webhook.json', '--data-dir', dataDir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists/);
  }, 60_000);

  it('users create-admin: the first admin signs in with the piped password; the CLI acts through the services, audited', async () => {
    const dataDir = path.join(dir, 'identity');
    const created = await flowcrewWithInput('a piped passphrase 2026\n', 'users', 'create-admin', '--username', 'Root', '--password-stdin', '--data-dir', dataDir);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ username: 'root', instanceRole: 'admin', projects: { default: 'owner' } });
    const again = await flowcrewWithInput('another passphrase 2026', 'users', 'create-admin', '--username', 'root', '--password-stdin', '--data-dir', dataDir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/taken/);
    const generated = await flowcrew('users', 'create-admin', '--username', 'second', '--data-dir', dataDir);
    expect(generated.code, generated.stderr).toBe(0);
    const password = /password: (\S+)/.exec(generated.stdout)![1]!;
    const imported = await flowcrew('import', 'flows/orders-webhook.json', '--data-dir', dataDir, '--deploy');
    expect(imported.code, imported.stderr).toBe(0);

    const server = await startTestServer({ dataDir });
    try {
      const root = await server.signIn('root', 'a piped passphrase 2026');
      expect((await server.apiAs(root, 'GET', '/api/v1/auth/status')).body.user.username).toBe('root');
      await server.signIn('second', password);
      expect((await server.apiAs(root, 'GET', '/api/v1/flows/orders')).body).toMatchObject({ projectId: 'default', deployed: true });
      const audit = (await server.api('GET', '/api/v1/audit?limit=50')).body.entries as Array<{ action: string; actor: { via: string; name: string } }>;
      const byCli = audit.filter((e) => e.actor.via === 'cli');
      expect(byCli.map((e) => e.action)).toEqual(expect.arrayContaining(['user.create', 'flow.import', 'flow.deploy']));
      expect(byCli[0]!.actor.name).toMatch(/^cli \(/);
    } finally {
      await server.stop();
    }
  }, 120_000);
});
