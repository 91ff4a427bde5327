/** @flowcrew/nodes-crm: CRM connectors. Salesforce (jsforce), HubSpot (@hubspot/api-client) and its webhook trigger, Dynamics 365 (Web API); each CRM has its own folder. */
import { dynamicsCredential } from './dynamics/credential.ts';
import { dynamicsNode } from './dynamics/node.ts';
import { hubspotCredential } from './hubspot/credential.ts';
import { hubspotNode } from './hubspot/node.ts';
import { hubspotTriggerNode } from './hubspot/trigger.ts';
import { salesforceCredential } from './salesforce/credential.ts';
import { salesforceNode } from './salesforce/node.ts';

export const nodes = [salesforceNode, hubspotNode, hubspotTriggerNode, dynamicsNode];
export const credentialTypes = [salesforceCredential, hubspotCredential, dynamicsCredential];

export { dynamicsCredential, dynamicsNode, hubspotCredential, hubspotNode, hubspotTriggerNode, salesforceCredential, salesforceNode };
