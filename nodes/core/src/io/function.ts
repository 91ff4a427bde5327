/** function: Node-RED's function node. User JavaScript runs in an isolated-vm sandbox (see function-sandbox.ts). */
import { defineNode, type FlowMessage, type InputContext, type Logger } from '@flowcrew/sdk';
import { FunctionSandbox, type CallHost } from './function-sandbox.ts';

export interface FunctionProps {
  /** Body of `async function (msg) { ... }`. */
  func: string;
  outputs?: number;
  /** Seconds, as in Node-RED; 0 means the default limit of 5 s (an unbounded function could hold a run forever). */
  timeout?: number;
  memoryLimitMb?: number;
  /** Runs once at deploy. */
  initialize?: string;
  /** Runs when the node is stopped (redeploy, shutdown). */
  finalize?: string;
  /** Node-RED's external modules: not available in the sandbox. */
  libs?: unknown[];
}

const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Node-RED's sendResults: a message, or an array with one entry per output (a message, an array of messages, or null).
 * Every message gets the input's _msgid; entries that are not objects are reported and skipped; outputs past `outputs` are ignored.
 */
export function toPortMessages(result: unknown, outputs: number, msgid: string | undefined, log: Logger): Array<FlowMessage[] | null> {
  if (result === null || result === undefined) return [];
  const perPort = Array.isArray(result) ? result : [result];
  return perPort.slice(0, outputs).map((entry: unknown) => {
    if (entry === null || entry === undefined) return null;
    const messages: FlowMessage[] = [];
    for (const msg of Array.isArray(entry) ? entry : [entry]) {
      if (msg === null || msg === undefined) continue;
      if (typeof msg !== 'object' || Array.isArray(msg)) {
        log.error(`Function tried to send a message of type ${Array.isArray(msg) ? 'Array' : typeof msg}`);
        continue;
      }
      if (msgid !== undefined) (msg as FlowMessage)._msgid = msgid;
      messages.push(msg as FlowMessage);
    }
    return messages;
  });
}

export const functionNode = defineNode<FunctionProps>({
  type: 'function',
  category: 'function',
  label: 'function',
  icon: 'code',
  color: '#fdd0a2',
  inputs: 1,
  outputs: { prop: 'outputs' },
  // Callable through ctx.callTool: the AI crew's function guardrails run in this sandbox, each a recorded invocation.
  usableAsTool: true,
  props: {
    type: 'object',
    properties: {
      func: { title: 'Code', type: 'string', default: '\nreturn msg;', description: 'JavaScript: the body of a function of msg', format: 'javascript' },
      outputs: { title: 'Outputs', type: 'integer', minimum: 0, maximum: 100, default: 1, description: 'Number of outputs; return an array to send to each' },
      timeout: { title: 'Time limit (s)', type: 'number', minimum: 0, default: 0, description: 'Time limit in seconds (0: 5 seconds)' },
      memoryLimitMb: { title: 'Memory limit (MB)', type: 'integer', minimum: 8, maximum: 2048, default: 32, description: 'Memory limit of the sandbox in MB' },
      initialize: { title: 'On start', type: 'string', default: '', description: 'JavaScript run once at deploy', format: 'javascript' },
      finalize: { title: 'On stop', type: 'string', default: '', description: 'JavaScript run when the node stops', format: 'javascript' },
      libs: { title: 'Modules', type: 'array', maxItems: 0, default: [], description: 'External modules (not supported)' },
    },
    required: ['func'],
  },
  help: `Runs JavaScript against each message, like Node-RED's function node.

### Properties
- **func**: the body of a function that receives \`msg\`. \`return msg\` sends it on; \`return null\` sends nothing;
  with several outputs return an array with one entry per output, e.g. \`return [msg, null]\` or \`return [[a, b], c]\`.
  \`await\` can be used anywhere in the code.
- **outputs**: the number of outputs (default 1).
- **timeout**: time limit for one message, in seconds (\`0\`: 5 seconds). Includes awaits and timers.
  Code that runs longer fails with "function timed out after N ms".
- **memoryLimitMb**: memory for the sandbox (default 32). Code that needs more fails with "function exceeded its N MB memory limit";
  the sandbox is rebuilt for the next message.
- **initialize** / **finalize**: code run once at deploy / when the node stops (redeploy, shutdown).

### In the code
- \`node.send(msg | [msg, ...])\`, \`node.done()\`, \`node.log/warn/error(text)\`, \`node.status({fill, shape, text})\`, \`node.id\`, \`node.name\`.
  \`node.error(text, msg)\` (with a message) fails the message with that text, so catch nodes receive it.
- \`context\`, \`flow\`, \`global\`: \`get(key)\`, \`set(key, value)\`, \`keys()\` (node, flow and global context; Node-RED's callback forms work too).
- \`RED.util.cloneMessage(msg)\`, \`env.get(name)\` (the flow's variables, as \`$env()\` reads them, and \`NR_NODE_ID\`, \`NR_NODE_NAME\`, \`NR_FLOW_ID\`), \`console.log\`, \`setTimeout\`/\`setInterval\` and their \`clear\` functions.
- A message is finished when the code has returned and its timers have run (or \`node.done()\` is called); timers still pending then are cancelled.

### Sandbox
The code runs in its own V8 isolate, inside a sandbox process of its flow's own: there is no \`require\`, \`process\`,
\`Buffer\`, file system or network, no \`SharedArrayBuffer\`, \`Atomics\` or \`WebAssembly\`, and host environment variables
are not visible. A crash of one flow's sandbox fails only that flow's messages in flight. Messages are copied in and
out, so they must be plain data; nothing leaving the code (a message, a log line, a context value) may be larger than
the memory limit or the runtime's message limit (\`FLOWCREW_MAX_MESSAGE_BYTES\`, 16 MB). Context values and log lines
have the runtime's limits too (\`FLOWCREW_CONTEXT_*\`, \`FLOWCREW_LOG_*\`).
`,
  async create(init) {
    const props = init.props;
    if (Array.isArray(props.libs) && props.libs.length > 0) throw new Error('function: external modules (libs) are not available in the Flowcrew sandbox');
    const outputs = props.outputs ?? 1;
    const sandbox = await FunctionSandbox.create({
      code: { func: props.func ?? '', initialize: props.initialize, finalize: props.finalize },
      memoryLimitMb: props.memoryLimitMb ?? 32,
      timeoutMs: props.timeout && props.timeout > 0 ? props.timeout * 1000 : DEFAULT_TIMEOUT_MS,
      info: { id: init.id, name: init.name, flowId: init.flowId, outputs },
    });

    // Initialize and finalize run outside any message: they log and set status on the node, and cannot send.
    const lifecycleHost: CallHost = {
      send: () => {
        throw new Error('node.send is not available in initialize/finalize');
      },
      log: (level, message) => init.log[level](message),
      status: (status) => init.status(status),
      context: init.context,
    };
    if (sandbox.has('initialize')) {
      try {
        await sandbox.run('initialize', undefined, lifecycleHost, { awaitTimers: false });
      } catch (error) {
        sandbox.close();
        throw new Error(`function: initialize failed: ${(error as Error).message}`);
      }
    }

    const messageHost = (msg: FlowMessage, ctx: InputContext): CallHost => ({
      send(output) {
        toPortMessages(output, outputs, msg._msgid, ctx.log).forEach((messages, port) => {
          if (messages && messages.length > 0) ctx.send(messages, port);
        });
      },
      log: (level, message) => ctx.log[level](message),
      status: (status) => ctx.status(status),
      context: ctx.context,
      signal: ctx.signal,
    });

    return {
      async onInput(msg, ctx) {
        if (!sandbox.has('func')) return null;
        const result = await sandbox.run('func', msg, messageHost(msg, ctx), { awaitTimers: true });
        return toPortMessages(result, outputs, msg._msgid, ctx.log);
      },
      async close() {
        try {
          if (sandbox.has('finalize')) await sandbox.run('finalize', undefined, lifecycleHost, { awaitTimers: false });
        } catch (error) {
          init.log.error(`function: finalize failed: ${(error as Error).message}`);
        } finally {
          sandbox.close();
        }
      },
    };
  },
});
