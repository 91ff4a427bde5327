/**
 * A consumer process for the crash tests: starts a trigger of this pack whose runs are never committed (emit never
 * resolves, as when the runtime dies between taking a message and storing its run), prints `received <json>` for
 * each message, and waits to be killed (SIGKILL, no clean-up: the broker sees a dead client).
 * Usage: node --import tsx crash-consumer.ts <node type> '<props JSON>' '<credential fields JSON>'
 */
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import type { NodeDefinition } from '@flowcrew/sdk';
import { createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import { nodes } from '../index.ts';

const [type, propsJson, fieldsJson] = process.argv.slice(2);
const definition = (nodes as NodeDefinition[]).find((n) => n.type === type);
if (!definition) throw new Error(`no node type ${type}`);
setTestServiceDefaults({ outbound: createOutboundGuard({ allow: ['127.0.0.1'] }) });
const node = await createTestNode(definition, JSON.parse(propsJson!), {
  credentials: JSON.parse(fieldsJson!),
  onEmit: async (msg) => {
    process.stdout.write(`received ${JSON.stringify(msg.payload)}\n`);
    return new Promise(() => {}); // the run is never committed
  },
});
await node.start();
process.stdout.write('started\n');
