/** @flowcrew/nodes-dapr: a Dapr 1.14 sidecar's pub/sub (publish, subscribe trigger) and state stores. */
import { daprCredential } from './credential.ts';
import { daprPublishNode } from './publish.ts';
import { daprStateNode } from './state.ts';
import { daprSubscribeNode } from './subscribe.ts';

export const nodes = [daprPublishNode, daprSubscribeNode, daprStateNode];
export const credentialTypes = [daprCredential];

export { daprCredential, daprPublishNode, daprStateNode, daprSubscribeNode };
