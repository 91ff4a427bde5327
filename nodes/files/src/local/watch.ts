/**
 * The local new-file trigger: a run per file that appears (or changes) in a directory inside the configured root.
 * File system events (inotify through chokidar), with polling when events are not available (network file
 * systems, the watch limit reached) or when asked for.
 */
import path from 'node:path';
import type { FSWatcher } from 'chokidar';
import picomatch from 'picomatch';
import { defineNode, type NodeCredential, type TriggerContext } from '@flowcrew/sdk';
import { emitFile } from '../emit-file.ts';
import { loadChokidar } from '../libs.ts';
import { withDefaults } from '../operations.ts';
import { relativePath } from '../paths.ts';
import { localFilesCredential, openLocalStore, type LocalFilesFields } from './root.ts';

export interface LocalWatchProps {
  path: string;
  pattern?: string;
  recursive: boolean;
  events: Array<'add' | 'change'>;
  content: 'none' | 'blob';
  maxBytes: number;
  polling: 'auto' | 'always';
  pollIntervalMs: number;
  stableMs: number;
}

const properties = {
  path: { title: 'Directory', type: 'string', default: '', description: 'The directory watched, relative to the root (empty: the root).' },
  pattern: { title: 'Name pattern', type: 'string', description: 'Only files whose path (relative to the directory) matches this glob, e.g. *.csv or **/*.json.' },
  recursive: { title: 'Subdirectories too', type: 'boolean', default: false },
  events: { title: 'Events', type: 'array', items: { enum: ['add', 'change'] }, uniqueItems: true, minItems: 1, default: ['add'], description: 'add: a new file. change: a file was rewritten.' },
  content: { title: 'Content', enum: ['none', 'blob'], default: 'none', description: 'none: msg.payload describes the file (path, size, modified). blob: msg.payload is a reference to its content (stored once, any size).' },
  maxBytes: { title: 'Largest content (bytes)', type: 'integer', minimum: 1, default: 1_073_741_824, description: 'Content blob: larger files are emitted without content.' },
  polling: { title: 'Detection', enum: ['auto', 'always'], default: 'auto', description: 'auto: file system events, falling back to polling when they are not available. always: poll (network file systems).' },
  pollIntervalMs: { title: 'Poll interval (ms)', type: 'integer', minimum: 100, default: 2000 },
  stableMs: { title: 'Settle time (ms)', type: 'integer', minimum: 0, default: 1000, description: 'A file is reported once its size has not changed for this long (so a file being copied in is not read half-written).' },
} as const;

const help = `# Local file trigger

Starts a run for every new file (and, if chosen, every rewritten file) in a directory inside the configured root
(\`FLOWCREW_FILES_DIR\`, or a **local-files** credential's directory). Files already there at deploy are not
reported. A file is reported once it stopped growing (\`stableMs\`).

\`msg.payload\` is \`{ path, name, size, modified }\` or, with **content: blob**, a blob reference to the file's
content (\`msg.file\` then has the entry). Symbolic links are not followed.

Events come from the operating system; when it cannot deliver them (a network file system, the watch limit
reached) the trigger polls instead, and says so in its status.`;

export const localFileWatchNode = defineNode<LocalWatchProps>({
  type: 'local-file-watch',
  category: 'trigger',
  label: 'Local file trigger',
  icon: 'folder_eye',
  color: '#c9a227',
  inputs: 0,
  outputs: 1,
  props: { type: 'object', additionalProperties: false, properties },
  credentials: { type: localFilesCredential.name, schema: localFilesCredential.schema, required: false },
  help,
  create(init) {
    const p = withDefaults<LocalWatchProps>(properties, init.props);
    const credential = init.credential as NodeCredential<LocalFilesFields> | undefined;
    const dirRel = relativePath(p.path);
    const matches = p.pattern ? picomatch(p.pattern, { dot: true }) : () => true;
    let watcher: FSWatcher | undefined;
    let stopped = false;
    const pending = new Set<Promise<void>>();

    const begin = async (trigger: TriggerContext, polling: boolean) => {
      const store = await openLocalStore(init.services, credential?.fields);
      const dir = await store.resolve(dirRel, true);
      const w = (await loadChokidar()).watch(dir, {
        ignoreInitial: true,
        followSymlinks: false,
        depth: p.recursive ? undefined : 0,
        usePolling: polling,
        interval: p.pollIntervalMs,
        binaryInterval: p.pollIntervalMs,
        awaitWriteFinish: p.stableMs > 0 ? { stabilityThreshold: p.stableMs, pollInterval: Math.min(p.stableMs, 200) } : false,
        // Our own temporary files (overwrite writes) are never reported.
        ignored: (file: string) => file.endsWith('.flowcrew-tmp'),
      });
      watcher = w;
      const onFile = (event: 'add' | 'change') => (file: string) => {
        if (stopped || !p.events.includes(event)) return;
        const inDir = path.relative(dir, file).split(path.sep).join('/');
        if (!matches(inDir)) return;
        const rel = path.relative(store.root, file).split(path.sep).join('/');
        const work = store
          .stat(rel)
          .then((entry) => (entry && entry.type === 'file' ? emitFile(trigger, store, init.services.blobs, entry, { content: p.content, maxBytes: p.maxBytes, event }, () => stopped) : undefined))
          .catch((error: unknown) => trigger.log.error(`local file trigger: "${rel}": ${(error as Error).message}`))
          .finally(() => pending.delete(work));
        pending.add(work);
      };
      w.on('add', onFile('add'));
      w.on('change', onFile('change'));
      w.on('error', (error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code;
        if (!polling && (code === 'ENOSPC' || code === 'EMFILE' || code === 'ENOSYS')) {
          // No more inotify watches (or none at all here): poll instead.
          trigger.log.warn(`local file trigger: file system events unavailable (${code}), polling every ${p.pollIntervalMs} ms instead`);
          void w.close();
          if (!stopped) void begin(trigger, true).catch((e: unknown) => trigger.log.error(`local file trigger: ${(e as Error).message}`));
          return;
        }
        trigger.log.error(`local file trigger on ${dir}: ${(error as Error).message}`);
      });
      await new Promise<void>((resolve) => w.once('ready', () => resolve()));
      trigger.status({ fill: 'green', shape: polling ? 'ring' : 'dot', text: `watching ${dirRel || '/'}${polling ? ' (polling)' : ''}` });
    };

    return {
      async start(trigger) {
        stopped = false;
        await begin(trigger, p.polling === 'always');
      },
      async stop() {
        stopped = true;
        await watcher?.close();
        watcher = undefined;
        await Promise.allSettled([...pending]);
      },
    };
  },
});
