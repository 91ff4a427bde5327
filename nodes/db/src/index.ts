/** @flowcrew/nodes-db: database connectors, one folder per database. */
import { mysqlCredential } from './mysql/credential.ts';
import { mysqlNode } from './mysql/node.ts';
import { postgresCredential } from './postgres/credential.ts';
import { postgresListenNode } from './postgres/listen.ts';
import { postgresNode } from './postgres/node.ts';
import { redisCredential } from './redis/credential.ts';
import { redisNode } from './redis/node.ts';
import { redisStreamNode } from './redis/stream.ts';

export const nodes = [postgresNode, postgresListenNode, mysqlNode, redisNode, redisStreamNode];
export const credentialTypes = [postgresCredential, mysqlCredential, redisCredential];

export { mysqlCredential, mysqlNode, postgresCredential, postgresListenNode, postgresNode, redisCredential, redisNode, redisStreamNode };
