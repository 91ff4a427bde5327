/**
 * Expression previews in a Web Worker: an expression that loops or builds something huge is stopped after a time
 * limit (the worker is ended and a fresh one started), so the editor stays responsive while the user types.
 */
import type { PreviewRequest, PreviewResult } from './evaluate';

export const PREVIEW_TIMEOUT_MS = 1000;

let worker: Worker | null = null;
let nextId = 1;
const waiting = new Map<number, (result: PreviewResult) => void>();

function startWorker(): Worker {
  const created = new Worker(new URL('./preview.worker.ts', import.meta.url), { type: 'module' });
  created.onmessage = (event: MessageEvent<{ id: number; result: PreviewResult }>) => {
    const resolve = waiting.get(event.data.id);
    waiting.delete(event.data.id);
    resolve?.(event.data.result);
  };
  created.onerror = (event) => {
    // A worker that cannot start (or crashed) fails what it was asked, and is replaced on the next request.
    for (const [, resolve] of waiting) resolve({ ok: false, message: `The preview failed: ${event.message || 'worker error'}`, notes: [] });
    waiting.clear();
    if (worker === created) worker = null;
    created.terminate();
  };
  return created;
}

export function preview(request: PreviewRequest, timeoutMs = PREVIEW_TIMEOUT_MS): Promise<PreviewResult> {
  worker ??= startWorker();
  const current = worker;
  const id = nextId++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (!waiting.delete(id)) return;
      // JSONata cannot be interrupted from outside: end the worker (and whatever else it was doing).
      if (worker === current) worker = null;
      current.terminate();
      for (const [, other] of waiting) other({ ok: false, message: 'Stopped: another preview took too long', notes: [] });
      waiting.clear();
      resolve({ ok: false, message: `Stopped after ${timeoutMs} ms: the expression takes too long on this input`, notes: [] });
    }, timeoutMs);
    waiting.set(id, (result) => {
      clearTimeout(timer);
      resolve(result);
    });
    current.postMessage({ id, request: JSON.parse(JSON.stringify(request)) as PreviewRequest });
  });
}
