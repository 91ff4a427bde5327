/** The SFTP node (read, write, list, delete, move, stat) and the SFTP new-file trigger (polling). */
import { defineNode, NodeInputError, type FlowMessage, type InputContext, type NodeCredential, type PooledResource } from '@flowcrew/sdk';
import { describeOperation, fileOperationConditions, fileOperationProperties, fileOperationsHelp, runFileOperation, withDefaults, type FileProps } from '../operations.ts';
import { pollProperties, PollingFileTrigger, type PollProps } from '../poll-trigger.ts';
import { relativePath } from '../paths.ts';
import { FileStoreError, PathEscapeError, type FileStore } from '../store.ts';
import { describeSftp, sftpHandle, type SftpConnection, type SftpFields } from './connect.ts';
import { sftpCredential } from './credential.ts';
import { SftpFileStore } from './store.ts';

const WRITES = new Set(['write', 'delete', 'move']);

/** Run `fn` on the credential's connection; a connection that broke is given back so the next use reconnects. */
async function withSftp<R>(pool: PooledResource<SftpConnection>, credential: NodeCredential<SftpFields>, fn: (store: FileStore) => Promise<R>): Promise<R> {
  const fields = credential.fields;
  const description = describeSftp(fields);
  try {
    return await pool.use((connection) => fn(new SftpFileStore(connection.client, description, fields.root ? relativeRoot(fields.root) : '')));
  } catch (error) {
    const e = error as { code?: string };
    if (e.code === 'ERR_NOT_CONNECTED' || e.code === 'ECONNRESET' || e.code === 'ERR_GENERIC_CLIENT') pool.discard();
    throw error;
  }
}

/** The credential's root as given ('/srv/in' absolute, 'in' under the login directory), normalised. */
function relativeRoot(root: string): string {
  const rel = relativePath(root);
  return root.startsWith('/') ? `/${rel}` : rel;
}

export const sftpNode = defineNode<FileProps>({
  type: 'sftp',
  category: 'connector',
  label: 'SFTP',
  icon: 'drive_folder_upload',
  color: '#5b7fa6',
  inputs: 1,
  outputs: 1,
  props: { type: 'object', additionalProperties: false, properties: fileOperationProperties, allOf: fileOperationConditions },
  credentials: { type: sftpCredential.name, schema: sftpCredential.schema, required: true },
  help: `# SFTP

Files on an SSH server over SFTP, with an **sftp** credential (password or private key; pin the server's host key).
Paths are relative to the credential's directory. One connection per credential is shared by every node using it;
editing the credential reconnects without a redeploy.

${fileOperationsHelp}`,
  usableAsTool: true,
  create(init) {
    const credential = init.credential as NodeCredential<SftpFields> | undefined;
    if (!credential) throw new Error('the SFTP node needs an sftp credential');
    const p = withDefaults<FileProps>(fileOperationProperties, init.props);
    const pool = sftpHandle(init.services, credential);
    return {
      async onInput(msg: FlowMessage, ctx: InputContext) {
        const { operation, path } = describeOperation(p, msg);
        const server = describeSftp(credential.fields);
        try {
          if (credential.fields.readOnly && WRITES.has(p.operation)) throw new NodeInputError(`${server}: ${operation} refused: the credential "${credential.id}" is read only`);
          return await withSftp(pool, credential, (store) => runFileOperation(store, p, msg, ctx, init.services));
        } catch (error) {
          if (error instanceof PathEscapeError) throw new NodeInputError(`${server}: ${operation}${path !== undefined ? ` "${path}"` : ''} refused: ${error.message}`);
          if (error instanceof FileStoreError || error instanceof NodeInputError) throw error;
          throw new FileStoreError(server, operation, path, error);
        }
      },
      close() {
        pool.release();
      },
    };
  },
});

export const sftpWatchNode = defineNode<PollProps>({
  type: 'sftp-watch',
  category: 'trigger',
  label: 'SFTP file trigger',
  icon: 'drive_folder_upload',
  color: '#5b7fa6',
  inputs: 0,
  outputs: 1,
  props: { type: 'object', additionalProperties: false, properties: pollProperties },
  credentials: { type: sftpCredential.name, schema: sftpCredential.schema, required: true },
  help: `# SFTP file trigger

Polls a directory on an SFTP server and starts a run for every new file (and, if chosen, every rewritten one), once
it looked the same in two polls in a row (an upload in progress is not reported). Files there at the first deploy
are not reported; what was reported is remembered across restarts.

\`msg.payload\` describes the file (\`path\`, \`size\`, \`modified\`), or with **content: blob** is a reference to its
content (\`msg.file\` then describes it).`,
  create(init) {
    const credential = init.credential as NodeCredential<SftpFields> | undefined;
    if (!credential) throw new Error('the SFTP file trigger needs an sftp credential');
    const p = withDefaults<PollProps>(pollProperties, init.props);
    const pool = sftpHandle(init.services, credential);
    const poller = new PollingFileTrigger(p, (fn) => withSftp(pool, credential, fn), init.services.blobs, init.context.node);
    return {
      start: (trigger) => poller.start(trigger),
      stop: () => poller.stop(),
      close() {
        pool.release();
      },
    };
  },
});
