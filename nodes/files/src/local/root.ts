/**
 * Where local file nodes may work: the administrator's directory (FLOWCREW_FILES_DIR, default <data dir>/files),
 * narrowed by a `local-files` credential to a subdirectory of it. A credential can narrow, never widen: its root is
 * itself a path inside the administrator's directory.
 */
import path from 'node:path';
import { defineCredentialType, type RuntimeServices } from '@flowcrew/sdk';
import { relativePath } from '../paths.ts';
import { LocalFileStore } from './store.ts';

export interface LocalFilesFields extends Record<string, unknown> {
  root?: string;
  readOnly?: boolean;
}

/** The administrator's directory for local files. */
export function filesDir(services: Pick<RuntimeServices, 'dataDir'>): string {
  const configured = process.env.FLOWCREW_FILES_DIR;
  if (configured) return path.resolve(configured);
  if (services.dataDir && services.dataDir !== ':memory:') return path.join(path.resolve(services.dataDir), 'files');
  throw new Error('local files need a directory: set FLOWCREW_FILES_DIR (this runtime has no data directory to default to)');
}

/** The store for a node: the administrator's directory, or the credential's subdirectory of it. */
export async function openLocalStore(services: Pick<RuntimeServices, 'dataDir'>, fields: LocalFilesFields | undefined): Promise<LocalFileStore> {
  const base = await LocalFileStore.open(filesDir(services));
  const sub = relativePath(fields?.root ?? '');
  if (!sub) return base;
  // Resolved through the base store: a credential root that is a link leading outside is refused like any path.
  return LocalFileStore.open(await base.resolve(sub, true));
}

export const localFilesCredential = defineCredentialType<LocalFilesFields>({
  name: 'local-files',
  label: 'Local files',
  description:
    'A directory for the local file nodes, inside the one the administrator configured (FLOWCREW_FILES_DIR). Nodes using this credential cannot reach files outside it.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      root: { title: 'Directory', type: 'string', description: 'A subdirectory of FLOWCREW_FILES_DIR (created if missing). Empty: all of it.' },
      readOnly: { title: 'Read only', type: 'boolean', default: false, description: 'Refuse writes, deletes and moves.' },
    },
  },
  async test(fields, services) {
    try {
      const store = await openLocalStore(services, fields);
      const entries = [];
      for await (const entry of store.list('', { recursive: false }, new AbortController().signal)) {
        entries.push(entry);
        if (entries.length >= 1000) break;
      }
      return { ok: true, message: `${store.root} is readable (${entries.length}${entries.length >= 1000 ? '+' : ''} entries)${fields.readOnly ? ', read only' : ''}` };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  },
});
