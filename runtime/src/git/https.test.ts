/**
 * Git-backed projects over HTTPS with a token, against a real Git server running here: git's own http-backend behind
 * an HTTPS server asking for Basic authentication (http-backend-server.ts). The token comes from the vault (a
 * git-token credential) and travels only as a header: never in a URL, the clone's config, or an error.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { startGitHttpsServer, type GitHttpsServer } from './http-backend-server.ts';

const token = `tok_${randomBytes(16).toString('hex')}`;
const wrongToken = `tok_${randomBytes(16).toString('hex')}`;

/** Every file under `dir` whose content contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) found.push(...filesContaining(file, needle));
    else if (readFileSync(file).includes(needle)) found.push(file);
  }
  return found;
}

describe('Git over HTTPS with a token (git http-backend, Basic auth)', () => {
  let git: GitHttpsServer;
  let server: TestServer;
  let bare = '';
  let credentialId = '';

  beforeAll(async () => {
    git = await startGitHttpsServer({ username: 'ci-bot', token });
    bare = path.join(git.root, 'shop.git');
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    server = await startTestServer({}, { env: { FLOWCREW_OUTBOUND_ALLOW: `127.0.0.1:${git.port}`, FLOWCREW_GIT_CA_FILE: git.caFile } });
    expect((await server.api('POST', '/api/v1/projects', { id: 'shop', name: 'shop' })).status).toBe(201);
    const credential = await server.api('POST', '/api/v1/credentials', { name: 'ci token', type: 'git-token', fields: { token, username: 'ci-bot' }, projectId: 'shop' });
    expect(credential.status).toBe(201);
    credentialId = credential.body.id;
    expect((await server.api('PUT', '/api/v1/projects/shop/git', { url: `${git.origin}/shop.git`, branch: 'main', credentialId })).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await git?.close();
  });

  it('pushes with the token as a header: every request authorized, no URL and no file of the clone holds it', async () => {
    const flow = { id: 'orders', name: 'Orders', projectId: 'shop', nodes: [{ id: 'in', type: 'inject', wires: [['out']] }, { id: 'out', type: 'debug' }] };
    expect((await server.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    const pushed = await server.api('POST', '/api/v1/projects/shop/git/push', { message: 'over https' });
    expect(pushed.status).toBe(200);
    expect(pushed.body.flows).toEqual(['orders']);
    const log = execFileSync('git', ['--git-dir', bare, 'log', '-1', '--format=%s', 'main'], { encoding: 'utf8' }).trim();
    expect(log).toBe('over https');
    expect(JSON.parse(execFileSync('git', ['--git-dir', bare, 'show', 'main:flows/orders.json'], { encoding: 'utf8' })).name).toBe('Orders');

    expect(git.requests.length).toBeGreaterThan(0);
    expect(git.requests.every((r) => r.authorized)).toBe(true);
    expect(git.requests.some((r) => r.url.includes('git-receive-pack'))).toBe(true);
    expect(git.requests.filter((r) => r.url.includes(token))).toEqual([]);
    const clone = path.join(server.dataDir, 'git', 'shop');
    expect(filesContaining(clone, token)).toEqual([]);
    expect(execFileSync('git', ['-C', clone, 'remote', 'get-url', 'origin'], { encoding: 'utf8' }).trim()).toBe(`${git.origin}/shop.git`);
  });

  it('pulls a commit made on the server through the same authenticated fetch', async () => {
    const work = path.join(git.root, '..', `laptop-${randomBytes(3).toString('hex')}`);
    execFileSync('git', ['clone', '-q', bare, work]);
    const file = path.join(work, 'flows', 'orders.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.description = 'edited on a laptop';
    execFileSync('sh', ['-c', `cat > '${file}'`], { input: `${JSON.stringify(doc, null, 2)}\n` });
    execFileSync('git', ['-C', work, '-c', 'user.name=L', '-c', 'user.email=l@x', 'commit', '-qam', 'laptop edit']);
    execFileSync('git', ['-C', work, 'push', '-q', 'origin', 'main']);
    const before = git.requests.length;
    const pulled = await server.api('POST', '/api/v1/projects/shop/git/pull', {});
    expect(pulled.status).toBe(200);
    expect(pulled.body.flows).toEqual(['orders']);
    expect((await server.api('GET', '/api/v1/flows/orders')).body.description).toBe('edited on a laptop');
    expect(git.requests.slice(before).every((r) => r.authorized)).toBe(true);
  });

  it('a wrong token is a clear 502 that names neither token', async () => {
    expect((await server.api('PATCH', `/api/v1/credentials/${credentialId}`, { fields: { token: wrongToken } })).status).toBe(200);
    const before = git.requests.length;
    const pushed = await server.api('POST', '/api/v1/projects/shop/git/push', {});
    expect(pushed.status).toBe(502);
    expect(pushed.body.title).toBe('Git authentication failed');
    expect(pushed.body.detail).toContain('could not read Username'); // git's words after the server's 401
    const text = JSON.stringify(pushed.body);
    expect(text).not.toContain(wrongToken);
    expect(text).not.toContain(token);
    expect(git.requests.slice(before).some((r) => !r.authorized)).toBe(true);
  });
});
