/**
 * The ai pack's heavier libraries, imported on first use (see lazyImport in the SDK): every runtime start imports the
 * pack, but only flows with MCP tools or knowledge sources of these formats need them. Elsewhere in the pack they are
 * imported as types only. (node-llama-cpp is loaded the same way, in providers/local-llama.ts.)
 */
import { lazyImport } from '@flowcrew/sdk';

/** The MCP client and its two transports (@modelcontextprotocol/sdk with zod: ~7 MB of heap once imported). */
export const loadMcpClient = lazyImport('@modelcontextprotocol/sdk', async () => {
  const [client, stdio, http] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/stdio.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
  ]);
  return { Client: client.Client, StdioClientTransport: stdio.StdioClientTransport, DEFAULT_INHERITED_ENV_VARS: stdio.DEFAULT_INHERITED_ENV_VARS, StreamableHTTPClientTransport: http.StreamableHTTPClientTransport };
});
/** HTML knowledge sources (cheerio: ~8 MB of heap once imported). */
export const loadCheerio = lazyImport('cheerio', () => import('cheerio'));
/** CSV knowledge sources. */
export const loadCsvParse = lazyImport('csv-parse', async () => (await import('csv-parse/sync')).parse);
/** PDF knowledge sources. */
export const loadUnpdf = lazyImport('unpdf', () => import('unpdf'));
