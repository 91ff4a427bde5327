/** @flowcrew/nodes-mq: message queues. Each broker has its own folder; shared payload/net/error helpers in shared/. */
import { rabbitConsumeNode } from './rabbitmq/consume.ts';
import { rabbitCredential } from './rabbitmq/credential.ts';
import { rabbitPublishNode } from './rabbitmq/publish.ts';
import { mqttCredential } from './mqtt/credential.ts';
import { mqttPublishNode } from './mqtt/publish.ts';
import { mqttSubscribeNode } from './mqtt/subscribe.ts';
import { kafkaConsumeNode } from './kafka/consume.ts';
import { kafkaCredential } from './kafka/credential.ts';
import { kafkaProduceNode } from './kafka/produce.ts';
import { natsConsumeNode } from './nats/consume.ts';
import { natsCredential } from './nats/credential.ts';
import { natsPublishNode } from './nats/publish.ts';

export const nodes = [rabbitPublishNode, rabbitConsumeNode, mqttPublishNode, mqttSubscribeNode, natsPublishNode, natsConsumeNode, kafkaProduceNode, kafkaConsumeNode];
export const credentialTypes = [rabbitCredential, mqttCredential, natsCredential, kafkaCredential];

export { kafkaConsumeNode, kafkaCredential, kafkaProduceNode, mqttCredential, mqttPublishNode, mqttSubscribeNode, natsConsumeNode, natsCredential, natsPublishNode, rabbitConsumeNode, rabbitCredential, rabbitPublishNode };
