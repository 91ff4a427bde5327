/** The consume trigger's help (long enough to keep out of consume.ts). */
export const consumeHelp = `# RabbitMQ consume

Starts a run for every message on a queue. A message is **acknowledged only after its run is stored**: if the
runtime stops (or crashes) before that, RabbitMQ delivers the message again; once acknowledged it is never
delivered again, and the run carries on after a restart from where it was.

- **Prefetch** bounds the messages taken and not yet acknowledged, so at most that many runs start at once.
- A message whose run cannot be stored is given back (after a short wait) and delivered again. After
  **Dead-letter after** deliveries it is moved to the **dead-letter exchange**, with the reason in the header
  \`x-flowcrew-death-reason\`, and acknowledged. Without one, it is rejected without requeue: the queue's own
  dead-letter policy takes it, or the broker drops it.
- A **poison message** (not JSON when *Payload as* is json) is dead-lettered at its first delivery.
- Quorum queues count deliveries themselves (\`x-delivery-count\`); for classic queues the count is kept by this
  process, so it starts again after a restart.

\`msg.payload\` is the body (see *Payload as*), \`msg.topic\` the routing key, \`msg.headers\` the AMQP headers, and
\`msg.rabbitmq\` has \`exchange\`, \`routingKey\`, \`queue\`, \`messageId\`, \`redelivered\` and \`deliveries\`.

A redelivered message whose run was in fact stored (the runtime stopped between storing it and the acknowledgement)
starts a second run: \`msg.rabbitmq.messageId\` (the publish node sets it) lets a flow drop duplicates.`;
