/** @flowcrew/nodes-crm: CRM connectors. Salesforce (jsforce) and the HubSpot webhook trigger; each CRM has its own folder. */
import { hubspotCredential } from './hubspot/credential.ts';
import { hubspotTriggerNode } from './hubspot/trigger.ts';
import { salesforceCredential } from './salesforce/credential.ts';
import { salesforceNode } from './salesforce/node.ts';

export const nodes = [salesforceNode, hubspotTriggerNode];
export const credentialTypes = [salesforceCredential, hubspotCredential];

export { hubspotCredential, hubspotTriggerNode, salesforceCredential, salesforceNode };
