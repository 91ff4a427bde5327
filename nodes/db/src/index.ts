/** @flowcrew/nodes-db: database connectors, one folder per database. */
import { mongoCredential } from './mongo/credential.ts';
import { mongoNode } from './mongo/node.ts';
import { mysqlCredential } from './mysql/credential.ts';
import { mysqlNode } from './mysql/node.ts';
import { odbcCredential } from './odbc/credential.ts';
import { odbcNode } from './odbc/node.ts';
import { postgresCredential } from './postgres/credential.ts';
import { postgresListenNode } from './postgres/listen.ts';
import { postgresNode } from './postgres/node.ts';
import { redisCredential } from './redis/credential.ts';
import { redisNode } from './redis/node.ts';
import { redisStreamNode } from './redis/stream.ts';

export const nodes = [postgresNode, postgresListenNode, mysqlNode, redisNode, redisStreamNode, mongoNode, odbcNode];
export const credentialTypes = [postgresCredential, mysqlCredential, redisCredential, mongoCredential, odbcCredential];

export { mongoCredential, mongoNode, mysqlCredential, mysqlNode, odbcCredential, odbcNode, postgresCredential, postgresListenNode, postgresNode, redisCredential, redisNode, redisStreamNode };
