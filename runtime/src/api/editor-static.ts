/**
 * Serves the built editor (editor/dist, made by `npm run build`) at /, with a fallback to index.html for any other
 * GET that is not an API, webhook or Socket.IO path. When the editor has not been built, / answers 503 saying how
 * to build it, rather than a bare 404.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response } from 'express';

/** editor/dist in this repository. */
export const defaultEditorDist = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'editor', 'dist');

const RESERVED = /^\/(api|webhook|socket\.io)(\/|$)/;

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flowcrew: editor not built</title>
<style>body{font-family:system-ui,sans-serif;background:#15171b;color:#e5e7eb;display:flex;align-items:center;justify-content:center;height:100vh;margin:0}
main{max-width:560px;padding:24px;border:1px solid #2e333b;border-radius:8px;background:#1c1f24}code{background:#111317;padding:2px 6px;border-radius:4px}</style></head>
<body><main><h1>Editor not built</h1>
<p>editor not built: run <code>npm run build</code>, then reload this page.</p>
<p>The runtime itself is up: the API answers at <code>/api/v1</code> and webhooks at <code>/webhook</code>.</p>
<p><code>npm start</code> builds it before starting.</p></main></body></html>`;

export function mountEditor(app: express.Express, distDir: string = defaultEditorDist): void {
  const indexFile = path.join(distDir, 'index.html');
  // Checked per request until found, so building while the runtime runs is enough (no restart).
  let built = existsSync(indexFile);
  const isBuilt = () => built || (built = existsSync(indexFile));

  // Hashed asset names never change content: cache them for a year. index.html must always be revalidated.
  const assets = express.static(distDir, {
    index: false,
    setHeaders(res, file) {
      res.setHeader('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });

  app.use((req: Request, res: Response, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || RESERVED.test(req.path)) return next();
    if (!isBuilt()) {
      res.status(503).type('html').set('Cache-Control', 'no-store').send(NOT_BUILT);
      return;
    }
    assets(req, res, () => {
      // Unknown files with an extension are real 404s; anything else is a client-side route.
      if (path.extname(req.path) && req.path !== '/index.html') return next();
      res.set('Cache-Control', 'no-cache').sendFile(indexFile);
    });
  });
}
