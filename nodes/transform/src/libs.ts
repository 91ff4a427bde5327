/**
 * The pack's format libraries, imported on first use (see lazyImport in the SDK): importing the pack, which every
 * runtime start does, loads none of them. (ajv and csv-stringify are not here: the runtime loads them itself.)
 */
import { lazyImport } from '@flowcrew/sdk';

export const loadExcel = lazyImport('exceljs', async () => (await import('exceljs')).default);
export const loadXmlBuilder = lazyImport('fast-xml-parser', async () => (await import('fast-xml-parser')).XMLBuilder);
export const loadCsvParse = lazyImport('csv-parse', async () => (await import('csv-parse')).parse);
