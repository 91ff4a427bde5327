import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { startTestServer } from '../testing/server.ts';
import { mountEditor } from './editor-static.ts';

let dir: string;
let server: Server;
let url: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-editor-'));
  const app = express();
  app.get('/api/v1/health', (_req, res) => void res.json({ status: 'ok' }));
  app.use('/webhook', (_req, res) => void res.status(404).json({ title: 'no webhook' }));
  mountEditor(app, path.join(dir, 'dist'));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('mountEditor', () => {
  it('answers 503 with how to build the editor while it is not built', async () => {
    const res = await fetch(`${url}/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('editor not built: run <code>npm run build</code>');
    expect((await fetch(`${url}/api/v1/health`)).status).toBe(200);
  });

  it('serves the built editor, with a fallback to index.html for client routes, once built (no restart)', async () => {
    await mkdir(path.join(dir, 'dist', 'assets'), { recursive: true });
    await writeFile(path.join(dir, 'dist', 'index.html'), '<!doctype html><title>Flowcrew</title>');
    await writeFile(path.join(dir, 'dist', 'assets', 'index-abc123.js'), 'console.log(1)');

    const index = await fetch(`${url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(await index.text()).toContain('<title>Flowcrew</title>');

    const route = await fetch(`${url}/flows/orders`);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('<title>Flowcrew</title>');

    const asset = await fetch(`${url}/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

    expect((await fetch(`${url}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${url}/webhook/nothing`)).status).toBe(404);
    expect((await fetch(`${url}/`, { method: 'POST' })).status).toBe(404);
  });

  it('serves another build when configured (FLOWCREW_EDITOR_DIST, read in config.ts only)', async () => {
    expect(loadConfig({ FLOWCREW_EDITOR_DIST: 'other/dist' }).editorDist).toBe(path.resolve('other/dist'));
    expect(loadConfig({}).editorDist).toBeUndefined();
    const other = path.join(dir, 'other');
    await mkdir(other, { recursive: true });
    await writeFile(path.join(other, 'index.html'), '<!doctype html><title>Other build</title>');
    const runtime = await startTestServer({ editorDist: other });
    try {
      expect(await (await fetch(`${runtime.url}/flows/x`)).text()).toContain('<title>Other build</title>');
    } finally {
      await runtime.stop();
    }
  });
});
