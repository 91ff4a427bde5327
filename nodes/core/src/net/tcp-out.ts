/**
 * tcp out: Node-RED's TCP output. *client*: keeps a connection to host:port (through the outbound guard) and writes
 * each message to it (closing after each when "close after send" is set); *server*: listens and writes each message to
 * every connected client; *reply*: answers on the connection `msg._session` names (from a tcp in), or on every open
 * one without a session. `msg.reset = true` drops the connection instead of writing.
 */
import net from 'node:net';
import { defineNode } from '@flowcrew/sdk';
import { bindHost, payloadToBytes, toBool, toPort } from './payload.ts';
import { allSessions, sessionSocket } from './sessions.ts';

export interface TcpOutProps {
  beserver?: 'client' | 'server' | 'reply';
  host?: string;
  port?: number | string;
  base64?: boolean | string;
  end?: boolean | string;
}

export const tcpOutNode = defineNode<TcpOutProps>({
  type: 'tcp-out',
  category: 'network',
  label: 'tcp out',
  icon: 'bridge',
  color: '#c0c0c0',
  inputs: 1,
  outputs: 0,
  props: {
    type: 'object',
    properties: {
      beserver: { title: 'Role', enum: ['client', 'server', 'reply'], default: 'client', description: 'Connect to a host (client), listen for clients (server), or answer a tcp in connection (reply)' },
      host: { title: 'Host', type: 'string', default: '' },
      port: { title: 'Port', type: ['integer', 'string'], default: '' },
      base64: { title: 'Decode base64', type: ['boolean', 'string'], default: false, description: 'The payload is base64 text: send its bytes' },
      end: { title: 'Close after send', type: ['boolean', 'string'], default: false, description: 'Close the connection after each message' },
    },
    allOf: [
      { if: { properties: { beserver: { const: 'client' } } }, then: { required: ['host', 'port'] } },
      { if: { properties: { beserver: { const: 'server' } } }, then: { required: ['port'] } },
    ],
  },
  help: `Sends \`msg.payload\` over TCP, as Node-RED's **tcp out** node.

- **client**: connects to **Host**:**Port** (checked by the outbound-request guard) and writes each message;
  **Close after send** closes the connection after each one.
- **server**: listens on **Port** (all interfaces, or \`FLOWCREW_NET_BIND\`) and writes each message to every client.
- **reply**: writes to the connection \`msg._session\` names (set by a **tcp in** node), or to every open connection.

Strings are sent as UTF-8 (or decoded from base64 with **Decode base64**); other values as their text.
\`msg.reset = true\` closes the connection instead.`,
  create(init) {
    const props = init.props;
    const mode = props.beserver ?? 'client';
    const base64 = toBool(props.base64);
    const closeAfter = toBool(props.end);
    const port = mode === 'reply' ? 0 : toPort(props.port, 'tcp out');
    let server: net.Server | undefined;
    const clients = new Set<net.Socket>();
    let client: net.Socket | undefined;

    const connected = async (): Promise<net.Socket> => {
      if (client && !client.destroyed && !client.connecting) return client;
      const target = await init.services.outbound.check(String(props.host), port);
      return new Promise((resolve, reject) => {
        const socket = net.connect({ host: target.addresses[0]!.address, port });
        socket.once('connect', () => { client = socket; socket.removeListener('error', reject); socket.on('error', (e) => init.log.warn(`tcp out: ${props.host}:${port}: ${e.message}`)); resolve(socket); });
        socket.once('error', (error) => reject(new Error(`tcp out: cannot connect to ${props.host}:${port}: ${error.message}`)));
        socket.on('close', () => { if (client === socket) client = undefined; });
      });
    };

    return {
      async start() {
        if (mode !== 'server') return;
        server = net.createServer((socket) => {
          clients.add(socket);
          socket.on('error', () => clients.delete(socket));
          socket.on('close', () => clients.delete(socket));
          init.status({ text: `${clients.size} connection(s)` });
        });
        await new Promise<void>((resolve, reject) => {
          server!.once('error', (error) => reject(new Error(`tcp out: cannot listen on port ${port}: ${error.message}`)));
          server!.listen(port, bindHost(), () => resolve());
        });
      },
      async onInput(msg) {
        const reset = (msg as { reset?: unknown }).reset === true;
        if (mode === 'reply') {
          const session = msg._session as { type?: string; id?: string } | undefined;
          const targets = session?.type === 'tcp' ? [sessionSocket(session.id)].filter((s): s is net.Socket => !!s) : allSessions();
          for (const socket of targets) reset ? socket.destroy() : socket.write(payloadToBytes(msg.payload, base64));
          return;
        }
        if (mode === 'server') {
          if (msg.payload == null) return;
          const bytes = payloadToBytes(msg.payload, base64);
          for (const socket of clients) closeAfter ? socket.end(bytes) : socket.write(bytes);
          return;
        }
        if (reset) { client?.destroy(); return; }
        if (msg.payload == null) return;
        const socket = await connected();
        const bytes = payloadToBytes(msg.payload, base64);
        await new Promise<void>((resolve, reject) => socket.write(bytes, (error) => (error ? reject(new Error(`tcp out: writing to ${props.host}:${port} failed: ${error.message}`)) : resolve())));
        if (closeAfter) socket.end();
      },
      async stop() {
        client?.destroy();
        for (const socket of clients) socket.destroy();
        if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      },
    };
  },
});
