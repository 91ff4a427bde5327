/** @flowcrew/nodes-files: file connectors (local directory, SFTP, S3), one folder per backend. */
import { localFilesCredential } from './local/root.ts';
import { localFileNode } from './local/node.ts';
import { localFileWatchNode } from './local/watch.ts';
import { sftpCredential } from './sftp/credential.ts';
import { sftpNode, sftpWatchNode } from './sftp/node.ts';

export const nodes = [localFileNode, localFileWatchNode, sftpNode, sftpWatchNode];
export const credentialTypes = [localFilesCredential, sftpCredential];

export { localFileNode, localFileWatchNode, localFilesCredential, sftpCredential, sftpNode, sftpWatchNode };
