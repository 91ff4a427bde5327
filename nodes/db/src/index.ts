/** @flowcrew/nodes-db: database connectors, one folder per database. */
import { mysqlCredential } from './mysql/credential.ts';
import { mysqlNode } from './mysql/node.ts';
import { postgresCredential } from './postgres/credential.ts';
import { postgresListenNode } from './postgres/listen.ts';
import { postgresNode } from './postgres/node.ts';

export const nodes = [postgresNode, postgresListenNode, mysqlNode];
export const credentialTypes = [postgresCredential, mysqlCredential];

export { mysqlCredential, mysqlNode, postgresCredential, postgresListenNode, postgresNode };
