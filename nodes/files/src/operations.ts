/**
 * The file operations every backend's node offers (read, write, list, delete, move, stat): their props schema, and
 * running one against a FileStore. Each backend's node adds only how to reach its store.
 */
import picomatch from 'picomatch';
import { getProperty, inPages, NodeInputError, sendRowPages, type FlowMessage, type InputContext, type JsonSchema, type RuntimeServices } from '@flowcrew/sdk';
import { contentStream, readContent, withNewline, type ReadOutput } from './content.ts';
import { relativePath } from './paths.ts';
import { FileStoreError, PathEscapeError, type FileEntry, type FileStore, type WriteMode } from './store.ts';

export type FileOperation = 'read' | 'write' | 'list' | 'delete' | 'move' | 'stat';

export interface FileProps {
  operation: FileOperation;
  path?: string;
  output: ReadOutput;
  encoding: 'utf8' | 'base64';
  maxBytes: number;
  contentFrom: string;
  mode: WriteMode;
  createDirs: boolean;
  recursive: boolean;
  pattern?: string;
  listOutput: 'array' | 'pages';
  maxEntries: number;
  pageSize: number;
  missingOk: boolean;
  to?: string;
  overwrite: boolean;
  appendNewline?: boolean;
  passThrough?: boolean;
}

export const fileOperationProperties = {
  operation: { title: 'Operation', enum: ['read', 'write', 'list', 'delete', 'move', 'stat'], default: 'read', description: 'read a file, write one, list a directory, delete, move/rename, or stat (size, type, modified; null when missing).' },
  path: { title: 'Path', type: 'string', description: 'The file or directory, relative to the root (a leading / means the root). Empty: msg.filename. ".." may not lead outside the root.' },
  output: { title: 'Read as', enum: ['text', 'base64', 'blob'], default: 'text', description: 'text or base64: the content in msg.payload (up to "Largest content"). blob: a reference to the stored content (any size, streamed; the next node reads it back).' },
  encoding: { title: 'Text encoding', enum: ['utf8', 'base64'], default: 'utf8', description: 'How text content is written: utf8 as is, base64 decoded first. Buffers and blob references are written as they are.' },
  maxBytes: { title: 'Largest content (bytes)', type: 'integer', minimum: 1, maximum: 16_777_216, default: 10_485_760, description: 'Read as text/base64: a larger file fails (read it as a blob instead).' },
  contentFrom: { title: 'Content from', type: 'string', minLength: 1, default: 'payload', description: 'Write: the message property holding the content: text, a buffer, a blob reference, or a value written as JSON.' },
  mode: { title: 'Write mode', enum: ['overwrite', 'append', 'create'], default: 'overwrite', description: 'overwrite: replace the file (readers never see half a file where the backend allows). append: add at the end. create: fail if it exists.' },
  createDirs: { title: 'Create directories', type: 'boolean', default: true, description: 'Write and move: create missing parent directories.' },
  recursive: { title: 'Recursive', type: 'boolean', default: false, description: 'List: include subdirectories. Delete: delete a directory with everything in it.' },
  pattern: { title: 'Name pattern', type: 'string', description: 'List: only entries whose path (relative to the listed directory) matches this glob, e.g. *.csv or **/*.json.' },
  listOutput: { title: 'List output', enum: ['array', 'pages'], default: 'array', description: 'array: the entries in msg.payload (up to "Most entries"). pages: one message per page of entries, each a blob of JSON Lines (any number of entries).' },
  maxEntries: { title: 'Most entries', type: 'integer', minimum: 1, maximum: 1_000_000, default: 10_000, description: 'List as array: more entries than this fail (use pages).' },
  pageSize: { title: 'Page size', type: 'integer', minimum: 1, maximum: 100_000, default: 1000 },
  missingOk: { title: 'Missing is fine', type: 'boolean', default: true, description: 'Delete: a path that does not exist is not an error (msg.payload.deleted is false).' },
  to: { title: 'Move to', type: 'string', description: 'Move: the new path. Empty: msg.to.' },
  overwrite: { title: 'Overwrite target', type: 'boolean', default: false, description: 'Move: replace an existing target.' },
  appendNewline: { title: 'Add a newline', type: 'boolean', default: false, description: "Write: end text and JSON content with a newline (as Node-RED's file node does); buffers and blobs are written as they are." },
  passThrough: { title: 'Send the message on unchanged', type: 'boolean', default: false, description: "Write and delete: the message goes on as it came (as Node-RED's file node) instead of with the result in msg.payload." },
} as const;

/** The `allOf` showing each operation's fields only for that operation (the editor reads these). */
export const fileOperationConditions = [
  { if: { properties: { operation: { const: 'read' } } }, then: { properties: { output: {}, maxBytes: {} } } },
  { if: { properties: { operation: { const: 'write' } }, required: ['operation'] }, then: { properties: { contentFrom: {}, encoding: {}, mode: {}, createDirs: {}, appendNewline: {}, passThrough: {} } } },
  { if: { properties: { operation: { const: 'list' } }, required: ['operation'] }, then: { properties: { recursive: {}, pattern: {}, listOutput: {}, maxEntries: {}, pageSize: {} } } },
  { if: { properties: { operation: { const: 'delete' } }, required: ['operation'] }, then: { properties: { recursive: {}, missingOk: {}, passThrough: {} } } },
  { if: { properties: { operation: { const: 'move' } }, required: ['operation'] }, then: { properties: { to: {}, overwrite: {}, createDirs: {} } } },
] as const satisfies JsonSchema[];

export const fileOperationsHelp = `- **read**: the file at \`path\` (or \`msg.filename\`) into \`msg.payload\`: as **text**, **base64**, or as a
  **blob** reference for files of any size (streamed into the runtime's blob store; memory stays flat). \`msg.file\`
  has its size and modification time.
- **write**: \`msg.payload\` (or \`contentFrom\`) into the file: text, a buffer, a blob reference (streamed), or any
  other value as JSON. Modes: overwrite, append, create (fails if the file exists). Missing directories are created.
- **list**: the entries of a directory (\`recursive\`, a glob \`pattern\`), as an array, or in **pages** (one message
  per page, each a JSON Lines blob) for directories of any size.
- **delete**, **move** (\`to\` or \`msg.to\`; \`overwrite\`), **stat** (\`msg.payload\` is null for a missing path).
- Write and delete with **Send the message on unchanged** pass the message on as it came, as Node-RED's file node does
  (imported file nodes use it, with **Add a newline** for Node-RED's "add newline").

Errors name the store, the operation, the path and what the system or server said; a path with \`..\` leading
outside the root is refused.`;

/** Fill the schema defaults in (the runtime fills them at deploy; the test harness does not). */
export function withDefaults<P>(properties: Record<string, unknown>, given: Partial<P>): P {
  const defaults = Object.fromEntries(Object.entries(properties).flatMap(([name, spec]) => (spec && typeof spec === 'object' && 'default' in spec ? [[name, (spec as { default: unknown }).default]] : [])));
  return { ...defaults, ...given } as P;
}

function pathOf(given: string | undefined, msg: FlowMessage, fallback: string, what: string): string {
  const raw = given || (getProperty(msg, fallback) as string | undefined);
  if (typeof raw !== 'string') throw new NodeInputError(`no ${what}: set the node's ${what} or msg.${fallback}`);
  return relativePath(raw);
}

/** What the operation is, for error messages: 'read "a/b.csv"'. */
export function describeOperation(p: FileProps, msg: FlowMessage): { operation: string; path: string | undefined } {
  const raw = p.path || getProperty(msg, 'filename');
  return { operation: p.operation, path: typeof raw === 'string' ? raw : undefined };
}

/** Run one operation; the returned message carries the result in `payload`, the file's entry in `file`. */
export async function runFileOperation(store: FileStore, p: FileProps, msg: FlowMessage, ctx: InputContext, services: Pick<RuntimeServices, 'blobs'>): Promise<FlowMessage | null> {
  const signal = ctx.signal;
  switch (p.operation) {
    case 'read': {
      const path = pathOf(p.path, msg, 'filename', 'path');
      const { stream, entry } = await store.read(path, signal);
      const payload = await readContent(stream, p.output, { maxBytes: p.maxBytes, blobs: services.blobs, runId: ctx.runId, name: entry.name, path });
      return { ...msg, payload, file: entry, filename: path };
    }
    case 'write': {
      const path = pathOf(p.path, msg, 'filename', 'path');
      const content = getProperty(msg, p.contentFrom);
      const { stream, size } = await contentStream(p.appendNewline ? withNewline(content) : content, p.encoding, services.blobs, `msg.${p.contentFrom}`);
      try {
        const entry = await store.write(path, stream, { mode: p.mode, createDirs: p.createDirs, size }, signal);
        return p.passThrough ? msg : { ...msg, payload: entry, file: entry, filename: path };
      } finally {
        stream.destroy();
      }
    }
    case 'list': {
      const dir = relativePath(p.path || (getProperty(msg, 'filename') as string | undefined) || '');
      const entries = matching(store.list(dir, { recursive: p.recursive }, signal), dir, p.pattern);
      if (p.listOutput === 'pages') {
        const total = await sendRowPages(ctx, services.blobs, inPages(entries, p.pageSize), { base: { ...msg, filename: dir } });
        ctx.status({ fill: 'green', shape: 'dot', text: `${total} entries` });
        return null;
      }
      const all: FileEntry[] = [];
      for await (const entry of entries) {
        if (all.length >= p.maxEntries) throw new NodeInputError(`"${dir || '/'}" has more than ${p.maxEntries} entries (maxEntries): list it in pages`);
        all.push(entry);
      }
      return { ...msg, payload: all, filename: dir };
    }
    case 'delete': {
      const path = pathOf(p.path, msg, 'filename', 'path');
      if (path === '') throw new PathEscapeError('refusing to delete the root directory itself');
      const deleted = await store.delete(path, { recursive: p.recursive }, signal);
      if (!deleted && !p.missingOk) throw new FileStoreError(store.description, 'delete', path, { code: 'ENOENT' });
      return p.passThrough ? msg : { ...msg, payload: { path, deleted }, filename: path };
    }
    case 'move': {
      const from = pathOf(p.path, msg, 'filename', 'path');
      const to = pathOf(p.to, msg, 'to', 'target path');
      if (from === '' || to === '') throw new PathEscapeError('refusing to move the root directory itself');
      const entry = await store.move(from, to, { overwrite: p.overwrite, createDirs: p.createDirs }, signal);
      return { ...msg, payload: entry, file: entry, filename: to };
    }
    case 'stat': {
      const path = pathOf(p.path, msg, 'filename', 'path');
      const entry = await store.stat(path, signal);
      return { ...msg, payload: entry ?? null, file: entry, filename: path };
    }
  }
}

/** Entries whose path relative to `dir` matches the glob (all when there is none). */
async function* matching(entries: AsyncIterable<FileEntry>, dir: string, pattern: string | undefined): AsyncIterable<FileEntry> {
  if (!pattern) return yield* entries;
  const test = picomatch(pattern, { dot: true });
  const prefix = dir ? `${dir}/` : '';
  for await (const entry of entries) if (test(entry.path.startsWith(prefix) ? entry.path.slice(prefix.length) : entry.path)) yield entry;
}
