/**
 * tcp in: Node-RED's TCP input. As a server it listens on a port (every connection's data becomes messages); as a
 * client it connects to host:port (through the outbound guard) and reconnects when the connection drops. Stream mode
 * sends each chunk (or each delimited line of text) as it arrives; single mode sends the whole connection's data
 * when the peer closes it. Each message carries `_session` so a tcp out in reply mode answers on that connection.
 */
import net from 'node:net';
import { defineNode, type FlowMessage, type TriggerContext } from '@flowcrew/sdk';
import { bindHost, bytesToPayload, toBool, toPort, unescapeDelimiter, type DataType } from './payload.ts';
import { registerSession } from './sessions.ts';

export interface TcpInProps {
  server?: 'server' | 'client' | boolean;
  host?: string;
  port: number | string;
  datamode?: 'stream' | 'single';
  datatype?: DataType;
  newline?: string;
  trim?: boolean | string;
  topic?: string;
}

const RECONNECT_MS = 10_000;

/** Turns a connection's data into messages, the way Node-RED's tcp in does. */
function reader(props: TcpInProps, send: (msg: FlowMessage) => void) {
  const stream = !props.datamode || props.datamode === 'stream';
  const datatype = props.datatype ?? 'buffer';
  const newline = unescapeDelimiter(props.newline);
  const lines = datatype === 'utf8' && newline !== '';
  return (socket: net.Socket, session: string, extra: () => Record<string, unknown>) => {
    let text = '';
    const chunks: Buffer[] = [];
    socket.on('data', (data: Buffer) => {
      if (stream && lines) {
        text += data.toString('utf8');
        const parts = text.split(newline);
        text = parts.pop()!;
        for (const part of parts) send({ topic: props.topic ?? '', payload: toBool(props.trim) ? part + newline : part, ...extra(), _session: { type: 'tcp', id: session } });
      } else if (stream) {
        send({ topic: props.topic ?? '', payload: bytesToPayload(data, datatype), ...extra(), _session: { type: 'tcp', id: session } });
      } else chunks.push(data);
    });
    socket.on('end', () => {
      const rest = stream ? (lines ? text : '') : bytesToPayload(Buffer.concat(chunks), datatype);
      if (rest.length > 0) send({ topic: props.topic ?? '', payload: rest, ...extra(), _session: { type: 'tcp', id: session } });
    });
  };
}

export const tcpInNode = defineNode<TcpInProps>({
  type: 'tcp-in',
  category: 'network',
  label: 'tcp in',
  icon: 'bridge',
  color: '#c0c0c0',
  inputs: 0,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      server: { title: 'Role', enum: ['server', 'client', true, false], default: 'server', description: 'Listen for connections (server) or connect to a host (client)' },
      host: { title: 'Host', type: 'string', default: '', description: 'Client: the host to connect to' },
      port: { title: 'Port', type: ['integer', 'string'], description: 'Server: the port to listen on; client: the port to connect to' },
      datamode: { title: 'Output', enum: ['stream', 'single'], default: 'stream', description: 'stream: a message per chunk or line; single: one message when the connection closes' },
      datatype: { title: 'Data as', enum: ['buffer', 'utf8', 'base64'], default: 'buffer', description: 'Bytes arrive as base64 text (buffer, base64) or UTF-8 text (utf8)' },
      newline: { title: 'Split text on', type: 'string', default: '', description: 'Stream of text: a delimiter (e.g. \\n) splitting it into one message per line' },
      trim: { title: 'Keep the delimiter', type: ['boolean', 'string'], default: false, description: 'Re-attach the delimiter to each line (Node-RED\'s "trim")' },
      topic: { title: 'Topic', type: 'string', default: '' },
    },
    required: ['port'],
    if: { properties: { server: { enum: ['client', false] } } },
    then: { required: ['host'] },
  },
  help: `Receives data over TCP, as Node-RED's **tcp in** node.

- **Server**: listens on **Port** (all interfaces; set \`FLOWCREW_NET_BIND\` to narrow it). Each connection's data
  becomes messages with \`msg.ip\` and \`msg.port\` of the peer.
- **Client**: connects to **Host**:**Port** (checked by the outbound-request guard) and reconnects every 10 s when the
  connection drops.
- **Output** *stream*: a message per chunk, or per line when the data is text with a **Split text on** delimiter;
  *single*: one message with everything the peer sent, when it closes the connection.
- Bytes travel as base64 text (messages are stored with the run); choose *utf8* for text.

Every message carries \`msg._session\`: a **tcp out** node in *reply* mode answers on that connection.`,
  create(init) {
    const props = init.props;
    const port = toPort(props.port, 'tcp in');
    const isServer = props.server === undefined || props.server === true || props.server === 'server';
    let trigger: TriggerContext | undefined;
    let server: net.Server | undefined;
    let client: net.Socket | undefined;
    let reconnect: NodeJS.Timeout | undefined;
    let closing = false;
    const sessions = new Set<net.Socket>();
    const send = (msg: FlowMessage) => {
      trigger?.emit(msg).catch((error: Error) => init.log.error(`tcp in: the message could not be stored: ${error.message}`));
    };
    const read = reader(props, send);

    const connect = async () => {
      if (closing) return;
      init.status({ fill: 'grey', shape: 'dot', text: `connecting to ${props.host}:${port}` });
      try {
        const target = await init.services.outbound.check(String(props.host), port);
        const socket = net.connect({ host: target.addresses[0]!.address, port });
        client = socket;
        socket.setKeepAlive(true, 120_000);
        const session = registerSession(socket);
        socket.on('connect', () => init.status({ fill: 'green', shape: 'dot', text: 'connected' }));
        read(socket, session, () => ({}));
        socket.on('error', (error) => init.log.warn(`tcp in: ${props.host}:${port}: ${error.message}`));
        socket.on('close', () => {
          init.status({ fill: 'red', shape: 'ring', text: 'disconnected' });
          if (!closing) reconnect = setTimeout(() => void connect(), RECONNECT_MS);
        });
      } catch (error) {
        init.status({ fill: 'red', shape: 'ring', text: (error as Error).message });
        init.log.error(`tcp in: cannot connect to ${props.host}:${port}: ${(error as Error).message}`);
        reconnect = setTimeout(() => void connect(), RECONNECT_MS);
      }
    };

    return {
      async start(context) {
        trigger = context;
        if (!isServer) return void connect();
        server = net.createServer((socket) => {
          sessions.add(socket);
          socket.setKeepAlive(true, 120_000);
          const session = registerSession(socket);
          init.status({ fill: 'green', shape: 'dot', text: `${sessions.size} connection(s)` });
          read(socket, session, () => ({ ip: socket.remoteAddress, port: socket.remotePort }));
          socket.on('error', (error) => init.log.warn(`tcp in: connection from ${socket.remoteAddress}: ${error.message}`));
          socket.on('close', () => { sessions.delete(socket); init.status({ fill: 'green', shape: 'dot', text: `${sessions.size} connection(s)` }); });
        });
        await new Promise<void>((resolve, reject) => {
          server!.once('error', (error) => reject(new Error(`tcp in: cannot listen on port ${port}: ${error.message}`)));
          server!.listen(port, bindHost(), () => resolve());
        });
        init.status({ fill: 'green', shape: 'dot', text: `listening on ${(server.address() as net.AddressInfo).port}` });
      },
      async stop() {
        closing = true;
        clearTimeout(reconnect);
        client?.destroy();
        for (const socket of sessions) socket.destroy();
        if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      },
    };
  },
});
