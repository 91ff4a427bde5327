/**
 * join (Node-RED's "join" node): combine a sequence of messages into one. Modes: 'auto' reverses a split using
 * msg.parts, 'custom' builds a string/array/object/buffer or merged object from a count, a timeout or msg.complete,
 * 'reduce' folds a sequence with a JSONata expression.
 *
 * Groups in progress span several invocations: they live in memory, keyed by group id, and every change is
 * mirrored into the node's context (JSON) so that a restart picks them up again (read back lazily, on the first
 * message or when the node starts). A timeout fires outside any invocation, so the partial group is sent by
 * starting a run from this node through the TriggerContext the runtime hands to start().
 */
import { defineNode } from '@flowcrew/sdk';
import { Joiner } from './join-groups.ts';

export interface JoinProps {
  mode: 'auto' | 'custom' | 'reduce';
  /** custom: what to build. */
  build: 'string' | 'array' | 'object' | 'merged' | 'buffer';
  /** custom: the property to collect ('payload'); propertyType 'full' collects whole messages. */
  property: string;
  propertyType: 'msg' | 'full';
  /** custom object: the property giving each value's key. */
  key: string;
  /** custom string/buffer: what goes between the parts. */
  joiner: string;
  joinerType: 'str' | 'bin';
  /** custom: keep adding to the group after it was sent (Node-RED only honours boolean true). */
  accumulate: boolean | string;
  /** custom: use the sequence a message is part of (msg.parts); Node-RED 4 writes false for new nodes (undefined = true). */
  useparts?: boolean;
  /** custom: seconds after the group's first message to send what there is; '' or 0 for none. */
  timeout: number | string;
  /** custom: send after this many messages; '' uses msg.parts.count. */
  count: number | string;
  reduceExp: string;
  reduceInit: string;
  reduceInitType: string;
  reduceFixup: string;
  reduceRight: boolean;
}

/** A group in progress; JSON-serialisable so it can be mirrored into node context. */
export const joinNode = defineNode<JoinProps>({
  type: 'join',
  category: 'flow',
  label: 'join',
  icon: 'merge',
  color: '#E2D96E',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      mode: { type: 'string', enum: ['auto', 'custom', 'reduce'], default: 'auto', title: 'Mode' },
      build: { type: 'string', enum: ['string', 'array', 'object', 'merged', 'buffer'], default: 'array', title: 'Combine each message into (custom)' },
      property: { type: 'string', default: 'payload', title: 'Property to combine (custom)' },
      propertyType: { type: 'string', enum: ['msg', 'full'], default: 'msg', title: 'Combine a property or whole messages' },
      key: { type: 'string', default: 'topic', title: 'Key property (custom object)' },
      joiner: { type: 'string', default: '\\n', title: 'Join with (custom string/buffer)' },
      joinerType: { type: 'string', enum: ['str', 'bin'], default: 'str', title: 'Joiner type' },
      accumulate: { type: ['boolean', 'string'], default: false, title: 'Keep accumulating after sending (custom)' },
      useparts: { type: 'boolean', default: true, title: 'Use the sequence in msg.parts (custom)', description: 'Off: a message\'s msg.parts is ignored, as Node-RED 4 does for new join nodes' },
      timeout: { type: ['number', 'string'], default: '', title: 'Timeout in seconds (custom)' },
      count: { type: ['integer', 'string'], default: '', title: 'Send after this many messages (custom)' },
      reduceExp: { type: 'string', default: '', title: 'Reduce expression (JSONata)' },
      reduceInit: { type: 'string', default: '', title: 'Initial value' },
      reduceInitType: { type: 'string', default: 'num', title: 'Initial value type' },
      reduceFixup: { type: 'string', default: '', title: 'Fix-up expression (JSONata)' },
      reduceRight: { type: 'boolean', default: false, title: 'Evaluate in reverse order' },
    },
  },
  help: `Joins a sequence of messages into one, like Node-RED's *join* node.

### Properties
- **Mode**:
  - \`auto\`: reverses a split node: uses \`msg.parts\` to rebuild the original string, buffer, array or object
    and sends it once every part has arrived.
  - \`custom\`: builds from any messages:
    - **Combine each message into (custom)**: \`string\` (joined with **Join with (custom string/buffer)**), \`buffer\` (joined with **Join with (custom string/buffer)**, or the bytes of a JSON
      array with **Joiner type** \`bin\`), \`array\`, \`object\` (each value stored under the message property named
      by **key**, default \`topic\`) or \`merged\` (the properties of each message's object merged into one);
    - **property**: the message property collected (default \`payload\`); **propertyType** \`full\` collects whole
      messages;
    - sent when **count** messages have arrived (empty: \`msg.parts.count\`; for \`object\` and \`merged\`, when
      the object has **count** keys), when **timeout** seconds have passed
      since the group's first message (what has arrived so far is sent), or when a message with
      \`msg.complete\` arrives; **accumulate** \`true\` keeps adding to the group after it was sent.
      With **useparts** off (what Node-RED 4 writes for a new node), a message's \`msg.parts\` is ignored: the count is
      **count** only, and the joined message keeps no sequence of its own.
  - \`reduce\`: folds a \`msg.parts\` sequence with the JSONata **reduceExp**, evaluated for each message with
    \`$A\` the accumulated value (starting at **reduceInit**, typed by **reduceInitType**: \`num\`, \`str\`, \`json\`,
    \`bool\`, \`jsonata\`, ...), \`$I\` the message's index and \`$N\` the count. **reduceFixup** (optional) turns the
    final \`$A\` into the result; **reduceRight** processes the messages from last to first.

### Inputs
- \`msg.parts\`: the sequence information (\`auto\` and \`reduce\` need it).
- \`msg.complete\`: send the group now. \`msg.reset\`: discard the group without sending.

### Outputs
1. The joined message: the properties of the sequence's messages merged, with the combined value in
   **property**; \`msg.parts\` is removed (or restored to the enclosing sequence). In \`reduce\` mode, a new message
   whose \`payload\` is the result. Messages without \`msg.parts\` pass through reduce mode unchanged.

### Notes
Groups in progress are kept in the node's context and survive a restart of the runtime.
A timeout sends the partial group as a new run that starts at this node.`,
  create({ props, context, log }) {
    const joiner = new Joiner(props, context, context.node, log);
    return {
      onInput: async (msg) => [await joiner.handle(msg)],
      start: (trigger) => joiner.start(trigger),
      stop: () => joiner.stop(),
      close: () => joiner.stop(),
    };
  },
});
