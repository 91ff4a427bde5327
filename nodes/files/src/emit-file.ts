/**
 * Starting a run for a file a trigger found (a new local file, a new file on an SFTP server): the message, the
 * optional content as a blob (claim check), and retrying the emit while the run cannot be stored (deliver()).
 */
import { deliver, type BlobRef, type BlobServices, type FlowMessage, type TriggerContext } from '@flowcrew/sdk';
import type { FileEntry, FileStore } from './store.ts';

export interface FileTriggerOptions {
  /** 'blob': the file's content is stored and its reference is msg.payload; 'none': msg.payload is the entry. */
  content: 'none' | 'blob';
  /** Largest file whose content is taken (bytes); larger ones are emitted without content, with a warning. */
  maxBytes: number;
  event: string;
}

const RETRY_DELAYS_MS = [1000, 2000, 5000, 10_000, 30_000];

/**
 * Emit one file: resolves when its run is committed, or after the last retry failed (logged). `stopped()` ends the
 * retries when the trigger is stopped.
 */
export async function emitFile(trigger: TriggerContext, store: FileStore, blobs: BlobServices, entry: FileEntry, options: FileTriggerOptions, stopped: () => boolean): Promise<void> {
  let payload: FileEntry | BlobRef = entry;
  if (options.content === 'blob') {
    if (entry.size > options.maxBytes) trigger.log.warn(`${store.description}: "${entry.path}" is larger than maxBytes (${options.maxBytes}): emitted without its content`);
    else {
      const { stream } = await store.read(entry.path, new AbortController().signal);
      try {
        payload = await blobs.put(stream as AsyncIterable<Uint8Array>, { name: entry.name });
      } finally {
        stream.destroy();
      }
    }
  }
  const msg: FlowMessage = { payload, file: entry, filename: entry.path, topic: entry.path, event: options.event };
  for (let deliveries = 1; ; deliveries++) {
    if (stopped()) return;
    let retry = false;
    const outcome = await deliver(
      {
        log: trigger.log,
        async emit(m, o) {
          const result = await trigger.emit(m, o);
          if (payload !== entry) await blobs.link(payload as BlobRef, result.runId);
          return result;
        },
      },
      { msg, deliveries, ack() {}, nack() { retry = true; } },
      { maxDeliveries: RETRY_DELAYS_MS.length },
    );
    if (outcome.outcome === 'dead-lettered') trigger.log.error(`${store.description}: no run started for "${entry.path}": ${outcome.reason}`);
    if (!retry) return;
    await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[deliveries - 1]).unref());
  }
}
