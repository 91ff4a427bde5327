/**
 * Knowledge sources read as CrewAI reads them, with real parsers (unpdf, csv-parse, cheerio) on real files and a real
 * HTTP server reached through the runtime's outbound guard; a collection re-embeds a source only when its bytes change.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { ScriptedProvider } from '../providers/scripted.ts';
import { syncKnowledge } from './knowledge-sync.ts';
import { searchCollection } from './knowledge.ts';
import { fetchSource, type SourceEnvironment } from './sources.ts';
import { SqliteVecStore } from './sqlite-vec-store.ts';

/** A one-page PDF with one line of text in Helvetica (what a word processor's simplest export holds). */
export function pdfWith(text: string): Buffer {
  const content = `BT /F1 12 Tf 72 720 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(pdf.length);
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

let dir: string;
let web: Server;
let webBase: string;
const guard = createOutboundGuard({ allow: [] });
let env: SourceEnvironment;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-knowledge-'));
  await mkdir(path.join(dir, 'docs'));
  await writeFile(path.join(dir, 'docs', 'notes.md'), '# Returns\nItems may be returned within 30 days.');
  await writeFile(path.join(dir, 'policy.pdf'), pdfWith('Refunds are paid within 14 days of the return.'));
  await writeFile(path.join(dir, 'prices.csv'), 'sku,name,price\nmug,Coffee mug,12\ncap,Baseball cap,20\n');
  await writeFile(path.join(dir, 'team.json'), JSON.stringify({ team: { lead: 'Ada', members: ['Grace', 'Linus'] } }));
  await symlink('/etc/hostname', path.join(dir, 'escape.txt')).catch(() => undefined);
  web = createServer((req, res) => {
    if (req.url === '/page') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html><head><style>p{}</style><script>var secret=1</script></head><body><h1>Shipping</h1><p>We ship to   Europe.</p></body></html>');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  webBase = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  const allowed = createOutboundGuard({ allow: [`127.0.0.1:${new URL(webBase).port}`] });
  afterAll(() => allowed.close());
  env = { knowledgeDir: dir, outbound: allowed };
});

afterAll(async () => {
  guard.close();
  await new Promise((resolve) => web?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const text = async (spec: Parameters<typeof fetchSource>[0], e = env) => (await fetchSource(spec, e)).text();

describe('knowledge sources', () => {
  it('read text, Markdown, PDF, CSV and JSON files from the knowledge directory', async () => {
    expect(await text({ file: 'docs/notes.md' })).toBe('# Returns\nItems may be returned within 30 days.');
    expect(await text({ file: 'policy.pdf' })).toContain('Refunds are paid within 14 days of the return.');
    expect(await text({ file: 'prices.csv' })).toBe('sku: mug; name: Coffee mug; price: 12\nsku: cap; name: Baseball cap; price: 20');
    expect(await text({ file: 'team.json' })).toBe('team:\n  lead: Ada\n  members:\n    - Grace\n    - Linus');
  });

  it('refuse paths outside the knowledge directory, by .., absolute path or symlink', async () => {
    await expect(fetchSource({ file: '../etc/passwd' }, env)).rejects.toThrow(/does not exist in the knowledge directory|outside the knowledge directory/);
    await expect(fetchSource({ file: '/etc/passwd' }, env)).rejects.toThrow('give a path inside the knowledge directory, not an absolute one');
    await expect(fetchSource({ file: 'escape.txt' }, env)).rejects.toThrow('is outside the knowledge directory');
  });

  it('fetch a web page through the outbound guard, as text without scripts and styles', async () => {
    expect(await text({ url: `${webBase}/page` })).toBe('Shipping\nWe ship to Europe.');
    await expect(fetchSource({ url: `${webBase}/page` }, { ...env, outbound: guard })).rejects.toThrow(/refused: a loopback address/);
    await expect(fetchSource({ url: `${webBase}/missing` }, env)).rejects.toThrow(`knowledge source ${webBase}/missing answered 404`);
  });
});

describe('a knowledge collection kept in step with its sources', () => {
  it('embeds a source once, again when its bytes change, and drops one no longer listed', async () => {
    const store = SqliteVecStore.open(':memory:');
    const provider = new ScriptedProvider([]);
    const chunking = { size: 500, overlap: 0 };
    const sources = [{ file: 'docs/notes.md' }, { file: 'policy.pdf' }, { url: `${webBase}/page` }];
    expect(await syncKnowledge(store, provider, 'k', sources, chunking, env)).toEqual({ embedded: ['file:docs/notes.md', 'file:policy.pdf', `${webBase}/page`], unchanged: [], removed: [] });
    expect(await syncKnowledge(store, provider, 'k', sources, chunking, env)).toEqual({ embedded: [], unchanged: ['file:docs/notes.md', 'file:policy.pdf', `${webBase}/page`], removed: [] });
    await writeFile(path.join(dir, 'docs', 'notes.md'), '# Returns\nItems may be returned within 60 days.');
    expect(await syncKnowledge(store, provider, 'k', sources.slice(0, 2), chunking, env)).toEqual({ embedded: ['file:docs/notes.md'], unchanged: ['file:policy.pdf'], removed: [`${webBase}/page`] });
    const [hit] = await searchCollection(store, provider, 'k', 'how many days may items be returned', { topK: 1 });
    expect(hit!.text).toContain('60 days');
    // Another embedding model: the collection is derived data, so it is embedded again rather than refused.
    const other = new ScriptedProvider([], 'other-embedder', 48);
    expect(await syncKnowledge(store, other, 'k', sources.slice(0, 1), chunking, env)).toEqual({
      embedded: ['file:docs/notes.md'],
      unchanged: [],
      removed: [],
      rebuilt: 'embedded with scripted:scripted, now scripted:other-embedder',
    });
    expect((await store.getCollection('k'))!.dimensions).toBe(48);
    await store.close();
  });
});
