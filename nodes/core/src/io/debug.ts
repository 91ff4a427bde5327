/** debug: Node-RED's debug node. Shows a message property (or the whole message) in the editor's debug sidebar. */
import { inspect } from 'node:util';
import { defineNode, type NodeStatus } from '@flowcrew/sdk';
import { compileJsonata, type CompiledExpression } from '@flowcrew/sdk/util';
import { getMessagePropertyOrUndefined } from '@flowcrew/sdk/util';

export interface DebugProps {
  /** Node-RED's sidebar toggle: an inactive debug node shows nothing in the sidebar. */
  active?: boolean;
  /** 'payload', another property path, 'true' for the whole message, or a JSONata expression when targetType is 'jsonata'. */
  complete?: string | boolean;
  targetType?: 'msg' | 'full' | 'jsonata';
  tosidebar?: boolean;
  /** Also write to the server log (even when inactive, as Node-RED does). */
  console?: boolean;
  /** Show the value as the node's status. */
  tostatus?: boolean;
  /** What the status shows: auto (the shown value; msg.payload for the whole message), msg (statusVal), jsonata (statusVal), counter. */
  statusType?: 'auto' | 'msg' | 'jsonata' | 'counter';
  /** The property (msg) or expression (jsonata) the status shows. */
  statusVal?: string;
}

const STATUS_LENGTH = 32;

type Shown = NodeStatus & { text: string };

/**
 * The status Node-RED's debug node shows for a value: the value as text (first 32 characters), grey dot; a value that
 * is itself a status ({ fill, shape, text }) as that status; in auto mode a message with `error` as red with its message
 * and a message with `status` (from a status node) as that status.
 */
export function statusOf(shown: unknown, autoMsg?: Record<string, unknown>): Shown {
  let fill = 'grey' as NodeStatus['fill'];
  let shape = 'dot' as NodeStatus['shape'];
  let text = typeof shown === 'string' ? shown : inspect(shown);
  const asStatus = shown as Partial<Shown> | null;
  if (asStatus && typeof asStatus === 'object' && asStatus.fill && asStatus.shape && asStatus.text) ({ fill, shape, text } = asStatus as Shown);
  const error = autoMsg?.error as { message?: unknown } | undefined;
  if (autoMsg && Object.hasOwn(autoMsg, 'error')) {
    fill = 'red' as NodeStatus['fill'];
    text = String(error?.message);
  }
  const status = autoMsg?.status as Partial<Shown> | undefined;
  if (autoMsg && Object.hasOwn(autoMsg, 'status') && status) {
    fill = status.fill || ('grey' as NodeStatus['fill']);
    shape = status.shape || ('ring' as NodeStatus['shape']);
    text = status.text || '';
  }
  text = String(text);
  return { fill, shape, text: text.length > STATUS_LENGTH ? `${text.slice(0, STATUS_LENGTH)}...` : text };
}

export const debugNode = defineNode<DebugProps>({
  type: 'debug',
  category: 'output',
  label: 'debug',
  icon: 'bug_report',
  color: '#87a980',
  inputs: 1,
  outputs: 0,
  role: { kind: 'debug-output', activeProp: 'active' },
  props: {
    type: 'object',
    properties: {
      active: { title: 'Active', type: 'boolean', default: true, description: 'Off: messages pass without being shown' },
      // One typed input in the editor (x-typeProperty): the kind of output, then the property or expression.
      complete: { title: 'Output', type: ['string', 'boolean'], default: 'payload', 'x-typeProperty': 'targetType', description: 'The message property (e.g. payload.items[0]) or the JSONata expression to show' },
      targetType: { title: 'Output is', type: 'string', enum: ['msg', 'full', 'jsonata'], 'x-enumTitles': ['msg.', 'whole message', 'expression'], default: 'msg' },
      tosidebar: { title: 'Show in the debug sidebar', type: 'boolean', default: true },
      console: { title: 'Write to the runtime log', type: 'boolean', default: false },
      tostatus: { title: 'Show as node status', type: 'boolean', default: false },
      statusType: { title: 'Status shows', type: 'string', enum: ['auto', 'msg', 'jsonata', 'counter'], default: 'auto', description: 'What the status shows' },
      statusVal: { title: 'Status property or expression', type: 'string', default: '', description: 'Property (msg) or JSONata expression (jsonata) shown as status' },
    },
    // The status fields the chosen status mode uses, and only then: the editor shows a field while its condition holds.
    allOf: [
      { if: { properties: { tostatus: { const: true } } }, then: { properties: { statusType: {} } } },
      { if: { properties: { tostatus: { const: true }, statusType: { enum: ['msg', 'jsonata'] } } }, then: { properties: { statusVal: {} } } },
    ],
  },
  help: `Shows messages in the debug sidebar.

### Properties
- **Output**: what to show: \`payload\` (default), any property path such as \`payload.items[0]\`, or \`true\` for the whole message.
  With **targetType** \`jsonata\`, \`complete\` is a JSONata expression evaluated against the message.
- **active**: when off, nothing is sent to the sidebar.
- **tosidebar**: send to the debug sidebar (default on).
- **console**: also write the value to the server log. As in Node-RED, this happens even when the node is not active.
- **tostatus**: show a value (first 32 characters) as the node's status, chosen by **statusType**: \`auto\` the value shown
  (\`msg.payload\` when that is the whole message), \`msg\` the property **statusVal**, \`jsonata\` the expression **statusVal**,
  \`counter\` the number of messages received.

### Input
Any message. The node has no outputs.
`,
  create(init) {
    const props = init.props;
    const isExpression = props.targetType === 'jsonata';
    // Node-RED: 'false' (from very old flows) means payload; targetType 'full' is the whole message.
    let complete = String(props.complete ?? 'payload');
    if (complete === 'false' || complete === '') complete = 'payload';
    if (props.targetType === 'full') complete = 'true';
    const whole = !isExpression && complete === 'true';
    const expression: CompiledExpression | undefined = isExpression ? compileJsonata(complete, init.context, { nodeRedInput: true }) : undefined;
    const active = props.active ?? true;
    const tosidebar = props.tosidebar ?? true;
    const tostatus = props.tostatus ?? false;
    const statusType = props.statusType ?? 'auto';
    const statusProperty = props.statusVal || (whole ? 'payload' : complete);
    const statusExpression = statusType === 'jsonata' ? compileJsonata(props.statusVal ?? '', init.context, { nodeRedInput: true }) : undefined;
    let counter = 0;
    /** The last status shown: Node-RED sends a status only when it changes. */
    let shownStatus = '';
    if (tostatus && statusType === 'counter') init.status({ fill: 'blue', shape: 'ring', text: '0' });

    return {
      async onInput(msg, ctx) {
        // Node-RED's loop guard: a status node wired back to this debug node reports this node's own status.
        const status = msg.status as { source?: { id?: unknown } } | undefined;
        if (status && typeof status === 'object' && status.source?.id === init.id) return;
        let value: unknown;
        let property: string | undefined;
        if (whole) value = msg;
        else if (expression) value = await expression.evaluate(msg);
        else {
          property = complete;
          value = getMessagePropertyOrUndefined(msg, complete);
        }
        if (props.console) {
          const text = typeof value === 'string' ? value : inspect(value, { depth: 10 });
          ctx.log.info(text.includes('\n') || typeof value === 'object' ? `\n${text}` : text);
        }
        if (tostatus && statusType === 'counter') ctx.status({ fill: 'blue', shape: 'ring', text: String(++counter) });
        else if (tostatus) {
          let shown: unknown;
          if (statusType === 'auto') shown = whole ? msg.payload : value;
          else if (statusExpression) shown = await statusExpression.evaluate(msg);
          else shown = getMessagePropertyOrUndefined(msg, statusProperty);
          const next = statusOf(shown, statusType === 'auto' ? msg : undefined);
          if (JSON.stringify(next) !== shownStatus) {
            shownStatus = JSON.stringify(next);
            ctx.status(next);
          }
        }
        if (active && tosidebar) ctx.debug(value, { property });
      },
    };
  },
});
