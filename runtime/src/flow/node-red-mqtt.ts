/**
 * Node-RED's `mqtt in` / `mqtt out` onto the MQTT nodes of @flowcrew/nodes-mq (mqtt-subscribe / mqtt-publish). The
 * `mqtt-broker` configuration node is not imported (node-red.ts lists it and warns on each node naming it): the broker
 * becomes an MQTT credential attached to the nodes. Node-RED's string values become the numbers and booleans our
 * schemas take; MQTT 5 publish options our nodes do not set are kept out with a note.
 */
import type { NormaliseContext } from './node-red-props.ts';
import type { PropsEditor } from './node-red-values.ts';

type Rule = (p: PropsEditor, ctx?: NormaliseContext) => void;

const BROKER = 'the mqtt-broker configuration node is not imported: attach an MQTT credential (host, port, user, TLS) to this node';

/** "0" / "1" / "2" / "" (Node-RED's default) → 0 / 1 / 2. */
function qos(p: PropsEditor, fallback: 0 | 1 | 2): void {
  const raw = p.get('qos');
  const n = raw === '' || raw === undefined ? fallback : Number(raw);
  const value = n === 0 || n === 1 || n === 2 ? n : fallback;
  if (raw === undefined || raw === '') p.default('qos', value, `Node-RED's default QoS for this node is ${fallback}`);
  else if (raw !== value) p.translate('qos', value, 'QoS as a number');
}

/** MQTT 5 options and editor state our nodes do not take: dropped when empty, else kept out with a note. */
function dropAll(p: PropsEditor, keys: string[], reason: string): void {
  for (const key of keys) {
    if (!p.has(key)) continue;
    const value = p.get(key);
    p.drop(key, value === '' || value === false || value === 0 || value === undefined || value === null ? 'empty' : reason);
  }
}

/**
 * The broker's session: Node-RED connects with a clean session by default (the broker forgets the subscription and
 * queues nothing while the node is away); without it, for MQTT 5's session expiry, or for as long as the broker keeps it.
 */
function session(p: PropsEditor, broker: Record<string, unknown> | undefined): void {
  if (!broker) return;
  const clean = broker.cleansession === undefined || broker.cleansession === true || broker.cleansession === 'true';
  const expiry = Number(broker.sessionExpiry);
  if (clean) p.default('sessionExpirySeconds', 0, "the broker's clean session (Node-RED's default): nothing is kept while the flow is not deployed");
  else if (broker.sessionExpiry !== '' && Number.isInteger(expiry) && expiry >= 0) p.default('sessionExpirySeconds', expiry, "the broker's session expiry");
}

export const mqttIn: Rule = (p, ctx) => {
  session(p, typeof p.get('broker') === 'string' ? ctx?.configNode?.(p.get('broker') as string) : undefined);
  p.drop('broker', BROKER);
  qos(p, 2);
  const datatype = p.get('datatype');
  const payloadAs = datatype === 'utf8' ? 'text' : datatype === 'json' ? 'json' : datatype === 'base64' ? 'base64' : datatype === 'buffer' ? 'blob' : 'auto';
  if (p.has('datatype')) {
    p.drop('datatype', 'renamed payloadAs');
    p.translate('payloadAs', payloadAs, datatype === 'buffer' ? 'a Buffer in Node-RED: a blob reference here (messages carry no raw bytes)' : `datatype "${String(datatype)}"`);
  }
  dropAll(p, ['inputs'], 'dynamic subscriptions (topic set by input messages) are not supported: the node subscribes to its own topic');
  dropAll(p, ['nl', 'rap', 'rh'], 'MQTT 5 subscription options (no local, retain as published, retain handling) are not set by this node');
};

export const mqttOut: Rule = (p) => {
  p.drop('broker', BROKER);
  qos(p, 0);
  const retain = p.get('retain');
  if (retain === 'true' || retain === true) p.translate('retain', true, 'retain as a boolean');
  else if (p.has('retain')) p.translate('retain', false, 'retain as a boolean ("" and "false": off)');
  dropAll(p, ['respTopic', 'contentType', 'userProps', 'correl', 'expiry'], 'MQTT 5 publish properties are not set by this node (use msg.headers with RabbitMQ/NATS, or set them in a later version)');
};
