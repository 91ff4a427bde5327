/** inject: Node-RED's inject node. Starts runs on an interval, a cron schedule, once at deploy, or by hand. */
import cron, { type ScheduledTask } from 'node-cron';
import { defineNode, type FlowMessage, type TriggerContext } from '@flowcrew/sdk';
import { prepareTypedValue, type ContextScopes, type TypedValue } from '@flowcrew/sdk/util';
import { assertPropertyExpression, setMessageProperty } from '@flowcrew/sdk/util';

export interface InjectProperty {
  /** Message property to set, e.g. 'payload' or 'topic'. */
  p: string;
  v?: unknown;
  vt?: string;
}

export interface InjectProps {
  props?: InjectProperty[];
  /** Legacy (pre Node-RED 1.1) payload settings; still used for a `payload` entry of `props` that has no `v`. */
  payload?: unknown;
  payloadType?: string;
  topic?: string;
  /** Seconds between messages; '' or 0 for none. */
  repeat?: string | number;
  /** Cron schedule, e.g. '*\/5 * * * *' (5 fields, or 6 with seconds first). */
  crontab?: string;
  once?: boolean;
  /** Seconds after deploy for the `once` message; Node-RED uses 0.1 when unset. */
  onceDelay?: string | number;
}

/**
 * The value types inject offers: every type Node-RED's editor and runtime take (its editor lists msg and bin; re comes
 * from older exports). `env` reads as "": host environment variables are never readable by a flow. `msg` reads the
 * message being built (properties set by earlier entries).
 */
export const INJECT_VALUE_TYPES = ['str', 'num', 'bool', 'json', 'bin', 're', 'date', 'msg', 'jsonata', 'flow', 'global', 'env'] as const;

/** Node-RED refuses intervals longer than setInterval can hold (2^31 ms). */
const MAX_REPEAT_SECONDS = 2147483;

const propertySchema = {
  type: 'object',
  properties: {
    p: { title: 'Property', type: 'string', minLength: 1, description: 'Message property to set, e.g. payload or topic' },
    v: { title: 'Value', description: 'Value (its meaning depends on the value type)' },
    vt: { title: 'Value type', type: 'string', enum: [...INJECT_VALUE_TYPES], description: 'str, num, bool, json, date, env, msg, flow, global, jsonata…' },
  },
  required: ['p'],
};

/** Node-RED's handling of configs written before `props` existed, and of `props` entries that borrow the legacy fields. */
export function normaliseInjectProps(config: InjectProps): InjectProperty[] {
  if (!Array.isArray(config.props)) {
    return [
      { p: 'payload', v: config.payload, vt: config.payloadType },
      { p: 'topic', v: config.topic, vt: 'str' },
    ];
  }
  return config.props.map((prop) => {
    if (prop.p === 'payload' && !('v' in prop)) return { ...prop, v: config.payload, vt: config.payloadType };
    if (prop.p === 'topic' && prop.vt === 'str' && !('v' in prop)) return { ...prop, v: config.topic };
    return prop;
  });
}

type CompiledProperty = { property: string; value: TypedValue };

/** Flowcrew configs may hold a JSON value rather than its text in `v`; the typed value wants Node-RED's text. */
function valueText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function compileProperties(props: InjectProperty[], context: ContextScopes): CompiledProperty[] {
  const valueTypes: readonly string[] = INJECT_VALUE_TYPES;
  return props
    .filter((prop) => prop.p)
    .flatMap((prop) => {
      const text = valueText(prop.v);
      const type = prop.vt ?? 'str';
      // Node-RED skips a JSONata property with no expression.
      if (type === 'jsonata' && !text) return [];
      try {
        if (!valueTypes.includes(type)) throw new Error(`unsupported value type "${type}"`);
        assertPropertyExpression(prop.p, 'property');
        return [{ property: prop.p, value: prepareTypedValue(text, type, context) }];
      } catch (error) {
        throw new Error(`inject: property "${prop.p}": ${(error as Error).message}`);
      }
    });
}

/** Set every configured property on `msg`; like Node-RED, all failures are reported together. */
async function applyProperties(msg: FlowMessage, properties: CompiledProperty[]): Promise<FlowMessage> {
  const errors: string[] = [];
  for (const { property, value } of properties) {
    try {
      const v = await value.get(msg);
      // A "bin" value is a Buffer in Node-RED; messages here are JSON, so it travels as Node-RED's JSON form of one.
      setMessageProperty(msg, property, Buffer.isBuffer(v) ? v.toJSON() : v, true);
    } catch (error) {
      errors.push(`${property}: ${(error as Error).message}`);
    }
  }
  if (errors.length > 0) throw new Error(errors.join('; '));
  return msg;
}

export const injectNode = defineNode<InjectProps>({
  type: 'inject',
  category: 'trigger',
  label: 'inject',
  icon: 'arrow_right_alt',
  color: '#a6bbcf',
  role: { kind: 'manual-entry' },
  clusterSingleton: true,
  inputs: 0,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      props: {
        type: 'array',
        items: propertySchema,
        default: [{ p: 'payload' }, { p: 'topic', vt: 'str' }],
        title: 'Message properties',
        description: 'Properties set on each message',
      },
      // Older Node-RED flows keep payload and topic here: deprecated, so the form shows them only when a flow uses them.
      payload: { title: 'Payload (legacy)', description: 'Payload value for a `payload` entry without `v` (legacy)', default: '', deprecated: true },
      payloadType: { title: 'Payload type (legacy)', type: 'string', enum: [...INJECT_VALUE_TYPES], default: 'date', deprecated: true },
      topic: { title: 'Topic (legacy)', type: 'string', default: '', deprecated: true, description: 'Topic for a `topic` entry without `v` (legacy)' },
      repeat: { title: 'Repeat every (s)', type: ['string', 'number'], default: '', description: 'Seconds between messages; empty: no repeat' },
      crontab: { title: 'Schedule (cron)', type: 'string', default: '', format: 'cron', description: 'Cron schedule, e.g. 0 9 * * 1-5 (weekdays at 09:00)' },
      once: { title: 'Inject once after deploy', type: 'boolean', default: false, description: 'Send a message once shortly after deploy' },
      onceDelay: { title: 'Wait before the first message (s)', type: ['string', 'number'], default: 0.1, description: 'Seconds to wait before the `once` message' },
    },
  },
  help: `Starts a flow with a message: by hand, at an interval, on a cron schedule, or once after deploy.

### Properties
- **props**: the message properties to set, each \`{p, v, vt}\`: property name, value and value type.
  Types: \`str\`, \`num\`, \`bool\`, \`json\`, \`date\` (\`v\` empty: milliseconds since epoch; \`iso\`: ISO string),
  \`jsonata\` (an expression, with \`$flowContext(key)\` and \`$globalContext(key)\`), \`flow\` and \`global\` (a context key),
  \`env\` (always \`""\`: flows cannot read the server's environment variables).
- **payload**, **payloadType**, **topic**: Node-RED's older way to set payload and topic; used for a \`payload\` entry without a value.
- **repeat**: seconds between messages (decimals allowed). Takes precedence over \`crontab\`.
- **crontab**: a cron schedule such as \`*/5 * * * *\` (every five minutes) or \`0 9 * * 1-5\` (09:00 on weekdays); a sixth leading field is seconds.
- **once** / **onceDelay**: also send one message \`onceDelay\` seconds (default 0.1) after deploy; the interval or schedule starts after it.

### Output
One message with the configured properties set.

### Running by hand
"Run now" delivers your input message to this node: if it has a \`payload\` it is sent as is, otherwise the configured properties are set on it.
`,
  create(init) {
    const config = init.props;
    const context = { flow: init.context.flow, global: init.context.global };
    const properties = compileProperties(normaliseInjectProps(config), context);

    const repeat = Number(config.repeat || 0);
    if (Number.isNaN(repeat) || repeat < 0) throw new Error(`inject: repeat must be a number of seconds, got "${config.repeat}"`);
    if (repeat > MAX_REPEAT_SECONDS) throw new Error(`inject: repeat interval too long (${repeat} s; at most ${MAX_REPEAT_SECONDS} s)`);
    const crontab = config.crontab?.trim() ?? '';
    if (!repeat && crontab && !cron.validate(crontab)) {
      const reasons = cron.validateDetailed(crontab).errors.map((e) => e.message);
      throw new Error(`inject: invalid crontab "${crontab}": ${reasons.join('; ')}`);
    }
    const onceDelayMs = (Number(config.onceDelay) || 0.1) * 1000;

    let interval: NodeJS.Timeout | undefined;
    let onceTimer: NodeJS.Timeout | undefined;
    let task: ScheduledTask | undefined;

    const fire = (trigger: TriggerContext) => {
      applyProperties({}, properties)
        .then((msg) => trigger.emit(msg))
        .catch((error: unknown) => {
          trigger.log.error(`inject failed: ${(error as Error).message}`);
          trigger.status({ fill: 'red', shape: 'ring', text: (error as Error).message });
        });
    };
    const startSchedule = (trigger: TriggerContext) => {
      if (repeat > 0) interval = setInterval(() => fire(trigger), repeat * 1000);
      else if (crontab) {
        task = cron.createTask(crontab, () => fire(trigger), { name: `inject ${init.id}` });
        void task.start();
      }
    };

    return {
      start(trigger) {
        if (config.once) {
          onceTimer = setTimeout(() => {
            onceTimer = undefined;
            fire(trigger);
            startSchedule(trigger);
          }, onceDelayMs);
        } else startSchedule(trigger);
      },
      async stop() {
        clearTimeout(onceTimer);
        clearInterval(interval);
        onceTimer = interval = undefined;
        const stopping = task;
        task = undefined;
        await stopping?.destroy();
      },
      async onInput(msg) {
        // The editor's "inject with these values" sends the properties to use along with the message, as in Node-RED.
        const { __user_inject_props__: override, ...rest } = msg;
        if (Array.isArray(override)) {
          return applyProperties(rest, compileProperties(normaliseInjectProps({ ...config, props: override as InjectProperty[] }), context));
        }
        if (msg.payload !== undefined) return msg;
        return applyProperties({ ...msg }, properties);
      },
    };
  },
});
