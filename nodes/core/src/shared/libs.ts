/**
 * Libraries of the core pack's less used nodes, imported on first use (see lazyImport in the SDK): every runtime
 * start imports the pack, but few flows parse HTML or XML. A node loads its library when it is deployed (in `create`),
 * so its messages are handled as before; elsewhere the pack imports these libraries as types only.
 */
import { lazyImport, lazyRequire } from '@flowcrew/sdk';

/** cheerio (html node): ~8 MB of heap once imported. */
export const loadCheerio = lazyImport('cheerio', () => import('cheerio'));
/** js-yaml (yaml node, YAML message content), for synchronous use: CommonJS, loaded by the first call. */
export const jsYaml = lazyRequire<typeof import('js-yaml')>('js-yaml', import.meta.url);
/** xml2js (xml node). */
export const loadXml2js = lazyImport('xml2js', () => import('xml2js'));
