/** @flowcrew/nodes-mq: message queues. Each broker has its own folder; shared payload/net/error helpers in shared/. */
import { rabbitConsumeNode } from './rabbitmq/consume.ts';
import { rabbitCredential } from './rabbitmq/credential.ts';
import { rabbitPublishNode } from './rabbitmq/publish.ts';

export const nodes = [rabbitPublishNode, rabbitConsumeNode];
export const credentialTypes = [rabbitCredential];

export { rabbitConsumeNode, rabbitCredential, rabbitPublishNode };
