/**
 * The pack's client libraries, imported on first use (see lazyImport in the SDK): importing the pack, which every
 * runtime start does, loads none of them. Elsewhere in the pack they are imported as types only.
 */
import { lazyImport } from '@flowcrew/sdk';

export const loadJsforce = lazyImport('jsforce', async () => (await import('jsforce')).default);
export const loadJsforceTransport = lazyImport('jsforce', () => Promise.all([import('jsforce/lib/transport.js'), import('jsforce/lib/request-helper.js')]));
export const loadJose = lazyImport('jose', () => import('jose'));
export const loadCsvStringify = lazyImport('csv-stringify', async () => (await import('csv-stringify/sync')).stringify);
export const loadHubspot = lazyImport('@hubspot/api-client', async () => (await import('@hubspot/api-client')).Client);
