/**
 * websocket in / websocket out: Node-RED's WebSocket nodes. *server* mode serves /webhook/<path> through the runtime
 * (RuntimeServices.registerWebSocket) — every node naming the same path shares one endpoint, as Node-RED's listener
 * configuration node; *client* mode keeps one connection per URL (through the outbound guard, reconnecting).
 * Messages carry `_session` so a websocket out answers the connection a message came from; without one it sends to
 * every connection of the endpoint. "Whole message" mode exchanges msg objects as JSON instead of payloads.
 */
import WebSocket from 'ws';
import { defineNode, type FlowMessage, type NodeInit, type TriggerContext, type WebSocketConnection } from '@flowcrew/sdk';

export interface WebSocketProps {
  mode?: 'server' | 'client';
  /** Server: the path below /webhook. */
  path?: string;
  /** Client: ws:// or wss:// URL. */
  url?: string;
  /** Send and receive whole messages as JSON (Node-RED's wholemsg). */
  wholemsg?: boolean | string;
}

type Receiver = (msg: FlowMessage) => void;

/** One endpoint (a served path or a client URL) shared by the nodes that name it. */
interface Endpoint {
  connections: Map<string, { send(data: string): void }>;
  receivers: Set<Receiver>;
  users: number;
  close(): void;
}

const endpoints = new Map<string, Endpoint>();
const RECONNECT_MS = 3_000;

const whole = (props: WebSocketProps) => props.wholemsg === true || props.wholemsg === 'true';
const keyOf = (props: WebSocketProps) => (props.mode === 'client' ? `client:${props.url}` : `server:/${String(props.path ?? '').split('/').filter(Boolean).join('/')}`);

function incoming(data: string | Uint8Array, wholemsg: boolean, session: string): FlowMessage {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('base64');
  if (wholemsg && typeof data === 'string') {
    try {
      const parsed = JSON.parse(data) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return { ...(parsed as FlowMessage), _session: { type: 'websocket', id: session } };
    } catch { /* not JSON: Node-RED then sends it as the payload */ }
  }
  return { payload: text, _session: { type: 'websocket', id: session } };
}

function serve(init: NodeInit<WebSocketProps>, key: string): Endpoint {
  const endpoint: Endpoint = { connections: new Map(), receivers: new Set(), users: 0, close: () => undefined };
  const wholemsg = whole(init.props);
  const stop = init.services.registerWebSocket({
    path: `/${String(init.props.path ?? '').split('/').filter(Boolean).join('/')}`,
    onConnection(connection: WebSocketConnection) {
      endpoint.connections.set(connection.id, connection);
      connection.onClose(() => endpoint.connections.delete(connection.id));
      connection.onMessage((data) => { for (const receive of endpoint.receivers) receive(incoming(data, wholemsg, connection.id)); });
    },
  });
  endpoint.close = () => { stop(); endpoints.delete(key); };
  return endpoint;
}

function connect(init: NodeInit<WebSocketProps>, key: string): Endpoint {
  const endpoint: Endpoint = { connections: new Map(), receivers: new Set(), users: 0, close: () => undefined };
  const url = new URL(String(init.props.url));
  const wholemsg = whole(init.props);
  let socket: WebSocket | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const open = async () => {
    if (closed) return;
    try {
      const port = url.port ? Number(url.port) : url.protocol === 'wss:' ? 443 : 80;
      const target = await init.services.outbound.check(url.hostname, port);
      const address = target.addresses[0]!;
      // Connect to the address the guard checked (no second lookup that could answer differently).
      const ws = new WebSocket(url, { lookup: (_host: string, _opts: unknown, cb: (e: Error | null, a: string, f: number) => void) => cb(null, address.address, address.family) } as WebSocket.ClientOptions);
      socket = ws;
      const id = `client:${url.href}`;
      ws.on('open', () => { endpoint.connections.set(id, ws); init.status({ fill: 'green', shape: 'dot', text: 'connected' }); });
      ws.on('message', (data, isBinary) => { for (const receive of endpoint.receivers) receive(incoming(isBinary ? new Uint8Array(data as Buffer) : data.toString(), wholemsg, id)); });
      ws.on('error', (error) => init.log.warn(`websocket: ${url.href}: ${error.message}`));
      ws.on('close', () => {
        endpoint.connections.delete(id);
        init.status({ fill: 'red', shape: 'ring', text: 'disconnected' });
        if (!closed) timer = setTimeout(() => void open(), RECONNECT_MS);
      });
    } catch (error) {
      init.status({ fill: 'red', shape: 'ring', text: (error as Error).message });
      init.log.error(`websocket: cannot connect to ${url.href}: ${(error as Error).message}`);
      timer = setTimeout(() => void open(), RECONNECT_MS);
    }
  };
  void open();
  endpoint.close = () => { closed = true; clearTimeout(timer); socket?.close(); endpoints.delete(key); };
  return endpoint;
}

/** The endpoint for these props, opened by the first node that needs it and closed with the last. */
function acquire(init: NodeInit<WebSocketProps>): { endpoint: Endpoint; release(): void } {
  const key = keyOf(init.props);
  let endpoint = endpoints.get(key);
  if (!endpoint) {
    endpoint = init.props.mode === 'client' ? connect(init, key) : serve(init, key);
    endpoints.set(key, endpoint);
  }
  endpoint.users += 1;
  let released = false;
  const held = endpoint;
  return { endpoint: held, release: () => { if (released) return; released = true; held.users -= 1; if (held.users === 0) held.close(); } };
}

const props = {
  type: 'object',
  properties: {
    mode: { title: 'Connection', enum: ['server', 'client'], default: 'server', description: 'Serve a path on this runtime, or connect to a WebSocket server' },
    path: { title: 'Path', type: 'string', pattern: '^/', description: 'Served at <runtime address>/webhook<path>, e.g. /ws/chat' },
    url: { title: 'URL', type: 'string', pattern: '^wss?://', description: 'ws:// or wss:// address of the server' },
    wholemsg: { title: 'Whole messages', type: ['boolean', 'string'], default: false, description: 'Exchange whole messages as JSON instead of payloads' },
  },
  allOf: [
    { if: { properties: { mode: { const: 'client' } }, required: ['mode'] }, then: { required: ['url'] }, else: { required: ['path'] } },
  ],
};

export const websocketInNode = defineNode<WebSocketProps>({
  type: 'websocket-in',
  category: 'network',
  label: 'websocket in',
  icon: 'bridge',
  color: '#c0c0c0',
  inputs: 0,
  outputs: 1,
  props,
  help: `Receives WebSocket messages, as Node-RED's **websocket in** node.

- **server**: serves \`<runtime address>/webhook<Path>\`; every node naming the same path shares the endpoint.
- **client**: connects to **URL** (checked by the outbound-request guard), reconnecting every 3 s when it drops.

Each message carries \`msg._session\`: a **websocket out** node on the same endpoint answers that connection.
Binary frames arrive as base64 text. With **Whole messages**, a JSON object received becomes the message.`,
  create(init) {
    let held: ReturnType<typeof acquire> | undefined;
    let trigger: TriggerContext | undefined;
    const receive: Receiver = (msg) => {
      trigger?.emit(msg).catch((error: Error) => init.log.error(`websocket in: the message could not be stored: ${error.message}`));
    };
    return {
      start(context) {
        trigger = context;
        held = acquire(init);
        held.endpoint.receivers.add(receive);
      },
      stop() {
        held?.endpoint.receivers.delete(receive);
        held?.release();
        held = undefined;
      },
    };
  },
});

export const websocketOutNode = defineNode<WebSocketProps>({
  type: 'websocket-out',
  category: 'network',
  label: 'websocket out',
  icon: 'bridge',
  color: '#c0c0c0',
  inputs: 1,
  outputs: 0,
  props,
  help: `Sends \`msg.payload\` over a WebSocket, as Node-RED's **websocket out** node: to the connection
\`msg._session\` names (a reply to a **websocket in** message), otherwise to every connection of the endpoint.
Objects are sent as JSON; with **Whole messages** the whole message is sent as JSON.`,
  create(init) {
    const wholemsg = whole(init.props);
    // Held from deploy to undeploy, as Node-RED's listener: clients can connect before the first message is sent.
    const held = acquire(init);
    return {
      onInput(msg) {
        const endpoint = held.endpoint;
        const { _session: session, ...rest } = msg as FlowMessage & { _session?: { type?: string; id?: string } };
        const data = wholemsg ? JSON.stringify(rest) : typeof msg.payload === 'string' ? msg.payload : JSON.stringify(msg.payload ?? null);
        const target = session?.type === 'websocket' && session.id ? endpoint.connections.get(session.id) : undefined;
        if (target) return void target.send(data);
        for (const connection of endpoint.connections.values()) connection.send(data);
      },
      close() {
        held.release();
      },
    };
  },
});
