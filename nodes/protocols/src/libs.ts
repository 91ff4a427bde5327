/**
 * The pack's client libraries, loaded on first use: importing the pack, which every runtime start does, loads none
 * of them. Elsewhere in the pack they are imported as types only.
 */
import { lazyImport, lazyRequire } from '@flowcrew/sdk';

/**
 * graphql-js checks a query's syntax when a flow is saved (the node's synchronous `validate`): required, not
 * imported. It is CommonJS, so this is the very module instance `import('graphql')` would give.
 */
export const graphqlLib = lazyRequire<typeof import('graphql')>('graphql', import.meta.url);
export const loadSoap = lazyImport('soap', async () => (await import('soap')).default);
export const loadAxios = lazyImport('axios', async () => (await import('axios')).default);
