/** @flowcrew/nodes-crm: CRM connectors. Salesforce first (jsforce); each CRM gets its own folder. */
import { salesforceCredential } from './salesforce/credential.ts';
import { salesforceNode } from './salesforce/node.ts';

export const nodes = [salesforceNode];
export const credentialTypes = [salesforceCredential];

export { salesforceCredential, salesforceNode };
