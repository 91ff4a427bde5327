/** @flowcrew/nodes-crm: CRM connectors. Salesforce (jsforce), HubSpot (@hubspot/api-client) and its webhook trigger; each CRM has its own folder. */
import { hubspotCredential } from './hubspot/credential.ts';
import { hubspotNode } from './hubspot/node.ts';
import { hubspotTriggerNode } from './hubspot/trigger.ts';
import { salesforceCredential } from './salesforce/credential.ts';
import { salesforceNode } from './salesforce/node.ts';

export const nodes = [salesforceNode, hubspotNode, hubspotTriggerNode];
export const credentialTypes = [salesforceCredential, hubspotCredential];

export { hubspotCredential, hubspotNode, hubspotTriggerNode, salesforceCredential, salesforceNode };
