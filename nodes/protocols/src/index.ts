/** @flowcrew/nodes-protocols: API protocol nodes (GraphQL, SOAP), one folder per protocol. */
import { graphqlCredential, graphqlNode } from './graphql/node.ts';
import { soapCredential, soapNode } from './soap/node.ts';

export const nodes = [graphqlNode, soapNode];
export const credentialTypes = [graphqlCredential, soapCredential];

export { graphqlCredential, graphqlNode, soapCredential, soapNode };
