/** @flowcrew/nodes-db: database connectors. PostgreSQL first; each database gets its own folder. */
import { postgresCredential } from './postgres/credential.ts';
import { postgresListenNode } from './postgres/listen.ts';
import { postgresNode } from './postgres/node.ts';

export const nodes = [postgresNode, postgresListenNode];
export const credentialTypes = [postgresCredential];

export { postgresCredential, postgresListenNode, postgresNode };
