/** The local file node: read, write, list, delete, move and stat files inside the configured directory. */
import { defineNode, NodeInputError, type FlowMessage, type InputContext, type NodeCredential } from '@flowcrew/sdk';
import { describeOperation, fileOperationConditions, fileOperationProperties, fileOperationsHelp, runFileOperation, withDefaults, type FileProps } from '../operations.ts';
import { FileStoreError, PathEscapeError } from '../store.ts';
import { localFilesCredential, openLocalStore, type LocalFilesFields } from './root.ts';
import type { LocalFileStore } from './store.ts';

const props = {
  type: 'object',
  additionalProperties: false,
  properties: fileOperationProperties,
  allOf: fileOperationConditions,
};

const help = `# Local files

Works on files in the directory the administrator configured (\`FLOWCREW_FILES_DIR\`, default \`<data dir>/files\`),
or in the subdirectory a **local-files** credential names. Nothing outside it can be reached: \`..\` leading out
is refused, and so is a symbolic link pointing outside (also when writing a file that does not exist yet).

${fileOperationsHelp}

Overwriting writes a temporary file beside the target and renames it, so a reader never sees half a file.`;

const WRITES = new Set(['write', 'delete', 'move']);

export const localFileNode = defineNode<FileProps>({
  type: 'local-file',
  category: 'connector',
  label: 'Local file',
  icon: 'folder',
  color: '#c9a227',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: localFilesCredential.name, schema: localFilesCredential.schema, required: false },
  help,
  usableAsTool: true,
  create(init) {
    const p = withDefaults<FileProps>(fileOperationProperties, init.props);
    const credential = init.credential as NodeCredential<LocalFilesFields> | undefined;
    // The store is cheap (a realpath); opened again when the credential's revision changes.
    let store: { revision: number | undefined; value: Promise<LocalFileStore> } | undefined;
    const current = () => {
      if (!store || store.revision !== credential?.revision) {
        const value = openLocalStore(init.services, credential?.fields);
        value.catch(() => undefined);
        store = { revision: credential?.revision, value };
      }
      return store.value;
    };
    return {
      async onInput(msg: FlowMessage, ctx: InputContext) {
        const { operation, path } = describeOperation(p, msg);
        try {
          if (credential?.fields.readOnly && WRITES.has(p.operation)) throw new NodeInputError(`local files: ${operation} refused: the credential "${credential.id}" is read only`);
          return await runFileOperation(await current(), p, msg, ctx, init.services);
        } catch (error) {
          if (error instanceof PathEscapeError) throw new NodeInputError(`local files: ${operation}${path !== undefined ? ` "${path}"` : ''} refused: ${error.message}`);
          if (error instanceof FileStoreError || error instanceof NodeInputError) throw error;
          store = undefined; // the directory may be gone: look again next time
          throw new FileStoreError('local files', operation, path, error);
        }
      },
    };
  },
});
