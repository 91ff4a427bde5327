/** @flowcrew/nodes-files: file connectors (local directory, SFTP, S3), one folder per backend. */
import { localFilesCredential } from './local/root.ts';
import { localFileNode } from './local/node.ts';
import { localFileWatchNode } from './local/watch.ts';

export const nodes = [localFileNode, localFileWatchNode];
export const credentialTypes = [localFilesCredential];

export { localFileNode, localFileWatchNode, localFilesCredential };
