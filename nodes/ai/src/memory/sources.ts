/**
 * Knowledge sources as CrewAI 1.x has them (text, Markdown, PDF, CSV, JSON files, web pages), read into text:
 * files only from the knowledge directory (CrewAI's `knowledge/`), pages only through the outbound guard; and what a
 * connector node returns (any node type usable as a tool: a database query, a CRM lookup...), called during the run
 * as a recorded tool call. Each
 * source carries the sha256 of its bytes, so a collection embeds a source once and again only when it changed.
 */
import { createHash } from 'node:crypto';
import { realpath, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FlowMessage, JsonSchema, OutboundServices } from '@flowcrew/sdk';
import { loadCheerio, loadCsvParse, loadUnpdf } from '../libs.ts';

/** A connector node whose answer is the source: its type (usable as a tool), props, and a name for the source. */
export interface NodeSourceSpec {
  type: string;
  props?: Record<string, unknown>;
  credentials?: string;
  name?: string;
}

export type KnowledgeSourceSpec = { file: string } | { url: string } | { text: string; name?: string } | { node: NodeSourceSpec };

export const knowledgeSourceSchema: JsonSchema = {
  oneOf: [
    { type: 'object', required: ['file'], additionalProperties: false, properties: { file: { type: 'string', minLength: 1, description: 'Path inside the knowledge directory: .txt, .md, .pdf, .csv, .json, .html.' } } },
    { type: 'object', required: ['url'], additionalProperties: false, properties: { url: { type: 'string', pattern: '^https?://', description: 'A web page or file, fetched through the outbound guard.' } } },
    { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', minLength: 1 }, name: { type: 'string' } } },
    {
      type: 'object',
      required: ['node'],
      additionalProperties: false,
      properties: {
        node: {
          type: 'object',
          required: ['type'],
          additionalProperties: false,
          description: "A connector node (a node type usable as a tool) run during the run; the payloads it returns are the source's text.",
          properties: {
            type: { type: 'string', minLength: 1 },
            props: { type: 'object', default: {} },
            credentials: { type: 'string', minLength: 1, description: 'The credential the node needs, if any.' },
            name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Names the source (default: the node type).' },
          },
        },
      },
    },
  ],
};

export interface SourceEnvironment {
  /** Where `file` sources are read from; undefined when the runtime has none (a throwaway one). */
  knowledgeDir?: string;
  outbound: OutboundServices;
  signal?: AbortSignal;
  /** Runs a connector node for a `node` source (the run's ctx.callTool); absent outside a run. */
  callNode?: (spec: NodeSourceSpec) => Promise<FlowMessage[]>;
}

/** Largest file or download read as a source. */
export const MAX_SOURCE_BYTES = 20 * 1024 * 1024;

type Format = 'text' | 'pdf' | 'csv' | 'json' | 'html';

const BY_EXTENSION: Record<string, Format> = {
  '.txt': 'text', '.md': 'text', '.markdown': 'text', '.mdx': 'text', '.rst': 'text',
  '.pdf': 'pdf', '.csv': 'csv', '.json': 'json', '.html': 'html', '.htm': 'html',
};

/** The knowledge directory: $FLOWCREW_KNOWLEDGE_DIR, else knowledge/ in the runtime's data directory. */
export function knowledgeDirectory(dataDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.FLOWCREW_KNOWLEDGE_DIR) return path.resolve(env.FLOWCREW_KNOWLEDGE_DIR);
  return dataDir === ':memory:' ? undefined : path.resolve(dataDir, 'knowledge');
}

export function sourceName(spec: KnowledgeSourceSpec): string {
  if ('file' in spec) return `file:${spec.file}`;
  if ('url' in spec) return spec.url;
  if ('node' in spec) return `node:${spec.node.name || spec.node.type}`;
  return `text:${spec.name || sha256(Buffer.from(spec.text)).slice(0, 16)}`;
}

/** A source's bytes and their hash: cheap to get, so a run can tell whether the source changed before parsing it. */
export interface FetchedSource {
  source: string;
  contentHash: string;
  /** The text, parsed on demand (only when the source changed). */
  text(): Promise<string>;
}

export async function fetchSource(spec: KnowledgeSourceSpec, env: SourceEnvironment): Promise<FetchedSource> {
  const source = sourceName(spec);
  if ('text' in spec) return { source, contentHash: sha256(Buffer.from(spec.text)), text: async () => spec.text };
  if ('node' in spec) {
    if (!env.callNode) throw new Error(`knowledge source ${source}: a connector node is run during a run; here there is none`);
    const messages = await env.callNode(spec.node);
    const text = messages.map((m) => (typeof m.payload === 'string' ? m.payload : JSON.stringify(m.payload ?? null, null, 1))).join('\n\n');
    const bytes = Buffer.from(text);
    if (bytes.length > MAX_SOURCE_BYTES) throw new Error(`knowledge source ${source} returned ${bytes.length} bytes; at most ${MAX_SOURCE_BYTES} are read`);
    return { source, contentHash: sha256(bytes), text: async () => text };
  }
  if ('file' in spec) {
    const file = await insideKnowledgeDir(spec.file, env.knowledgeDir);
    const info = await stat(file);
    if (info.size > MAX_SOURCE_BYTES) throw new Error(`knowledge file ${spec.file} is ${info.size} bytes; at most ${MAX_SOURCE_BYTES} are read`);
    const format = BY_EXTENSION[path.extname(file).toLowerCase()];
    if (!format) throw new Error(`knowledge file ${spec.file}: unknown kind; use ${Object.keys(BY_EXTENSION).join(', ')}`);
    const bytes = await readFile(file);
    return { source, contentHash: sha256(bytes), text: () => toText(bytes, format, spec.file) };
  }
  const response = await env.outbound.fetch(spec.url, { signal: env.signal, headers: { accept: 'text/html, text/plain, application/json, text/csv, application/pdf;q=0.9, */*;q=0.5' } });
  if (!response.ok) throw new Error(`knowledge source ${spec.url} answered ${response.status} ${response.statusText}`);
  const bytes = await readLimited(response, spec.url);
  const format = formatOfResponse(response.headers.get('content-type') ?? '', spec.url);
  return { source, contentHash: sha256(bytes), text: () => toText(bytes, format, spec.url) };
}

/** A relative path that stays inside the knowledge directory, symlinks resolved. */
async function insideKnowledgeDir(relative: string, dir: string | undefined): Promise<string> {
  if (!dir) throw new Error(`knowledge file ${relative}: this runtime has no knowledge directory (set FLOWCREW_KNOWLEDGE_DIR)`);
  if (path.isAbsolute(relative)) throw new Error(`knowledge file ${relative}: give a path inside the knowledge directory, not an absolute one`);
  const root = await realpath(dir).catch(() => {
    throw new Error(`knowledge file ${relative}: the knowledge directory ${dir} does not exist`);
  });
  const file = await realpath(path.resolve(root, relative)).catch(() => {
    throw new Error(`knowledge file ${relative} does not exist in the knowledge directory ${dir}`);
  });
  if (file !== root && !file.startsWith(root + path.sep)) throw new Error(`knowledge file ${relative} is outside the knowledge directory ${dir}`);
  return file;
}

async function readLimited(response: Response, url: string): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_SOURCE_BYTES) throw new Error(`knowledge source ${url} is ${declared} bytes; at most ${MAX_SOURCE_BYTES} are read`);
  const chunks: Buffer[] = [];
  let size = 0;
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_SOURCE_BYTES) {
      await reader.cancel();
      throw new Error(`knowledge source ${url} is larger than ${MAX_SOURCE_BYTES} bytes`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

function formatOfResponse(contentType: string, url: string): Format {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/pdf') return 'pdf';
  if (type === 'text/csv') return 'csv';
  if (type === 'application/json' || type.endsWith('+json')) return 'json';
  if (type === 'text/html' || type === 'application/xhtml+xml') return 'html';
  if (type.startsWith('text/')) return 'text';
  return BY_EXTENSION[path.extname(new URL(url).pathname).toLowerCase()] ?? 'text';
}

async function toText(bytes: Buffer, format: Format, where: string): Promise<string> {
  try {
    switch (format) {
      case 'pdf': {
        const { extractText, getDocumentProxy } = await loadUnpdf();
        const pdf = await getDocumentProxy(new Uint8Array(bytes));
        const { text } = await extractText(pdf, { mergePages: true });
        return text;
      }
      case 'csv': {
        // CrewAI's CSVKnowledgeSource: one line per row; here with the header's names, so each line stands alone.
        const parseCsv = await loadCsvParse();
        const rows = parseCsv(bytes, { columns: true, skip_empty_lines: true, bom: true, relax_column_count: true }) as Array<Record<string, string>>;
        return rows.map((row) => Object.entries(row).map(([k, v]) => `${k}: ${v}`).join('; ')).join('\n');
      }
      case 'json':
        return jsonText(JSON.parse(bytes.toString('utf8')));
      case 'html': {
        const cheerio = await loadCheerio();
        const $ = cheerio.load(bytes.toString('utf8'));
        $('script, style, noscript, template, svg').remove();
        // Block elements end a line, so words of neighbouring paragraphs and headings do not run together.
        $('br').replaceWith('\n');
        $('p, div, li, tr, h1, h2, h3, h4, h5, h6, section, article, header, footer, blockquote, pre, table, dt, dd').append('\n');
        return $('body').text().replace(/[ \t]+/g, ' ').replace(/\s*\n\s*/g, '\n').trim();
      }
      default:
        if (bytes.includes(0)) throw new Error('it is binary, not text');
        return bytes.toString('utf8');
    }
  } catch (error) {
    throw new Error(`knowledge source ${where} could not be read as ${format}: ${(error as Error).message}`);
  }
}

/** CrewAI's JSONKnowledgeSource: nested keys as indented "key: value" lines. */
function jsonText(value: unknown, indent = ''): string {
  if (Array.isArray(value)) return value.map((v) => (v !== null && typeof v === 'object' ? `${indent}-\n${jsonText(v, indent + '  ')}` : `${indent}- ${String(v)}`)).join('\n');
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => (v !== null && typeof v === 'object' ? `${indent}${k}:\n${jsonText(v, indent + '  ')}` : `${indent}${k}: ${String(v)}`))
      .join('\n');
  }
  return `${indent}${String(value)}`;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
