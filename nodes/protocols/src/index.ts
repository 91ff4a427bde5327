/** @flowcrew/nodes-protocols: API protocol nodes (GraphQL, SOAP), one folder per protocol. */
import { graphqlCredential, graphqlNode } from './graphql/node.ts';

export const nodes = [graphqlNode];
export const credentialTypes = [graphqlCredential];

export { graphqlCredential, graphqlNode };
