/**
 * A new-file trigger for stores without change events (SFTP, S3): list the directory every interval, report files
 * that are new (or changed, if asked) once they stopped changing between two polls. What was seen is kept in the
 * node's context, so a restart does not report the same files again.
 */
import picomatch from 'picomatch';
import type { BlobServices, ContextStore, TriggerContext } from '@flowcrew/sdk';
import { emitFile } from './emit-file.ts';
import { relativePath } from './paths.ts';
import type { FileEntry, FileStore } from './store.ts';

export interface PollProps {
  path: string;
  pattern?: string;
  recursive: boolean;
  events: Array<'add' | 'change'>;
  content: 'none' | 'blob';
  maxBytes: number;
  pollIntervalMs: number;
}

export const pollProperties = {
  path: { title: 'Directory', type: 'string', default: '', description: 'The directory polled, relative to the credential\'s directory.' },
  pattern: { title: 'Name pattern', type: 'string', description: 'Only files whose path (relative to the directory) matches this glob, e.g. *.csv or **/*.json.' },
  recursive: { title: 'Subdirectories too', type: 'boolean', default: false },
  events: { title: 'Events', type: 'array', items: { enum: ['add', 'change'] }, uniqueItems: true, minItems: 1, default: ['add'], description: 'add: a new file. change: a file was rewritten (size or modification time changed).' },
  content: { title: 'Content', enum: ['none', 'blob'], default: 'none', description: 'none: msg.payload describes the file. blob: msg.payload is a reference to its content (stored once, any size).' },
  maxBytes: { title: 'Largest content (bytes)', type: 'integer', minimum: 1, default: 1_073_741_824, description: 'Content blob: larger files are emitted without content.' },
  pollIntervalMs: { title: 'Poll interval (ms)', type: 'integer', minimum: 200, default: 10_000, description: 'A file is reported after it looked the same in two polls (so one being uploaded is not read half-written).' },
} as const;

const SEEN_KEY = 'seenFiles';
const MAX_SEEN = 100_000;

type Signature = string;
const signature = (entry: FileEntry): Signature => `${entry.size}:${entry.modified}`;

export class PollingFileTrigger {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private running: Promise<void> | undefined;
  /** Files reported (or there at the first poll), by path: their signature then. */
  private seen: Map<string, Signature> | undefined;
  /** Files seen changing at the last poll, waiting to look the same once more. */
  private settling = new Map<string, Signature>();
  private readonly matches: (path: string) => boolean;

  constructor(
    private readonly p: PollProps,
    private readonly withStore: <R>(fn: (store: FileStore) => Promise<R>) => Promise<R>,
    private readonly blobs: BlobServices,
    private readonly context: ContextStore,
  ) {
    this.matches = p.pattern ? picomatch(p.pattern, { dot: true }) : () => true;
  }

  async start(trigger: TriggerContext): Promise<void> {
    this.stopped = false;
    const stored = this.context.get(SEEN_KEY) as Record<string, Signature> | undefined;
    this.seen = stored ? new Map(Object.entries(stored)) : undefined;
    // The first poll runs now, so a deploy fails loudly when the server or the directory is wrong.
    await this.poll(trigger);
    this.schedule(trigger);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(trigger: TriggerContext): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll(trigger)
        .then(() => trigger.status({ fill: 'green', shape: 'dot', text: `polled ${new Date().toISOString().slice(11, 19)}` }))
        .catch((error: unknown) => {
          trigger.log.error(`file trigger: ${(error as Error).message}`);
          trigger.status({ fill: 'red', shape: 'ring', text: (error as Error).message.slice(0, 80) });
        })
        .finally(() => this.schedule(trigger));
    }, this.p.pollIntervalMs);
  }

  private async poll(trigger: TriggerContext): Promise<void> {
    const dir = relativePath(this.p.path);
    const prefix = dir ? `${dir}/` : '';
    await this.withStore(async (store) => {
      const current = new Map<string, FileEntry>();
      for await (const entry of store.list(dir, { recursive: this.p.recursive }, new AbortController().signal)) {
        if (entry.type !== 'file' || entry.name.endsWith('.flowcrew-tmp')) continue;
        if (!this.matches(entry.path.startsWith(prefix) ? entry.path.slice(prefix.length) : entry.path)) continue;
        current.set(entry.path, entry);
      }
      if (!this.seen) {
        // First poll ever: what is there already is not new.
        this.seen = new Map([...current].map(([path, entry]) => [path, signature(entry)]));
        this.save();
        return;
      }
      let changed = false;
      for (const [path, entry] of current) {
        if (this.stopped) break;
        const sig = signature(entry);
        const before = this.seen.get(path);
        if (before === sig) continue;
        if (before !== undefined && !this.p.events.includes('change')) {
          this.seen.set(path, sig);
          changed = true;
          continue;
        }
        if (before === undefined && !this.p.events.includes('add')) {
          this.seen.set(path, sig);
          changed = true;
          continue;
        }
        // Report only once it looked the same in two polls in a row.
        if (this.settling.get(path) !== sig) {
          this.settling.set(path, sig);
          continue;
        }
        this.settling.delete(path);
        await emitFile(trigger, store, this.blobs, entry, { content: this.p.content, maxBytes: this.p.maxBytes, event: before === undefined ? 'add' : 'change' }, () => this.stopped);
        this.seen.set(path, sig);
        changed = true;
      }
      // Files gone are forgotten (one re-created later is new again).
      for (const path of this.seen.keys()) if (!current.has(path)) (this.seen.delete(path), (changed = true));
      for (const path of this.settling.keys()) if (!current.has(path)) this.settling.delete(path);
      if (changed) this.save();
    });
  }

  private save(): void {
    if (!this.seen) return;
    if (this.seen.size > MAX_SEEN) throw new Error(`more than ${MAX_SEEN} files in the polled directory: narrow it with a pattern or a subdirectory`);
    this.context.set(SEEN_KEY, Object.fromEntries(this.seen));
  }
}
