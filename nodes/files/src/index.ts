/** @flowcrew/nodes-files: file connectors (local directory, SFTP, S3), one folder per backend. */
import { localFilesCredential } from './local/root.ts';
import { localFileNode } from './local/node.ts';
import { localFileWatchNode } from './local/watch.ts';
import { s3Credential } from './s3/credential.ts';
import { s3Node } from './s3/node.ts';
import { sftpCredential } from './sftp/credential.ts';
import { sftpNode, sftpWatchNode } from './sftp/node.ts';

export const nodes = [localFileNode, localFileWatchNode, sftpNode, sftpWatchNode, s3Node];
export const credentialTypes = [localFilesCredential, sftpCredential, s3Credential];

export { localFileNode, localFileWatchNode, localFilesCredential, s3Credential, s3Node, sftpCredential, sftpNode, sftpWatchNode };
