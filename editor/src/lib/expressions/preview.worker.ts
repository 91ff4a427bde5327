/** Evaluates expression previews off the editor's main thread (see preview.ts, which stops a slow one). */
import { evaluatePreview, type PreviewRequest } from './evaluate';

self.onmessage = async (event: MessageEvent<{ id: number; request: PreviewRequest }>) => {
  const { id, request } = event.data;
  const result = await evaluatePreview(request);
  self.postMessage({ id, result });
};
