/**
 * udp in / udp out: Node-RED's UDP nodes. *udp in* listens on a port (optionally joining a multicast group) and
 * sends each datagram as a message with msg.fromip / msg.ip / msg.port; *udp out* sends msg.payload to the node's
 * address and port (or msg.ip / msg.port), through the outbound-request guard, with broadcast and multicast options.
 */
import dgram from 'node:dgram';
import { defineNode, type TriggerContext } from '@flowcrew/sdk';
import { bindHost, bytesToPayload, payloadToBytes, toBool, toPort, type DataType } from './payload.ts';

export interface UdpInProps {
  port: number | string;
  ipv?: 'udp4' | 'udp6';
  multicast?: 'true' | 'false' | boolean;
  group?: string;
  iface?: string;
  datatype?: DataType;
}

export interface UdpOutProps {
  addr?: string;
  port?: number | string;
  ipv?: 'udp4' | 'udp6';
  outport?: number | string;
  base64?: boolean | string;
  multicast?: 'false' | 'broad' | 'multi';
  iface?: string;
}

export const udpInNode = defineNode<UdpInProps>({
  type: 'udp-in',
  category: 'network',
  label: 'udp in',
  icon: 'bridge',
  color: '#c0c0c0',
  inputs: 0,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      port: { title: 'Port', type: ['integer', 'string'], description: 'The UDP port to listen on' },
      ipv: { title: 'IP version', enum: ['udp4', 'udp6'], default: 'udp4' },
      multicast: { title: 'Join a multicast group', enum: ['true', 'false', true, false], default: 'false' },
      group: { title: 'Group', type: 'string', default: '', description: 'Multicast group address, e.g. 239.1.1.1' },
      iface: { title: 'Interface', type: 'string', default: '', description: 'Local interface address for multicast (empty: any)' },
      datatype: { title: 'Data as', enum: ['buffer', 'utf8', 'base64'], default: 'buffer', description: 'base64 text (buffer, base64) or UTF-8 text (utf8)' },
    },
    required: ['port'],
  },
  help: `Receives UDP datagrams, as Node-RED's **udp in** node: each becomes a message with \`msg.payload\`,
\`msg.fromip\` (\`address:port\`), \`msg.ip\` and \`msg.port\`. Bytes travel as base64 text unless **Data as** is utf8.
Listens on all interfaces (\`FLOWCREW_NET_BIND\` narrows it); a multicast **Group** is joined when asked.`,
  create(init) {
    const props = init.props;
    const port = toPort(props.port, 'udp in');
    let socket: dgram.Socket | undefined;
    let trigger: TriggerContext | undefined;
    return {
      async start(context) {
        trigger = context;
        socket = dgram.createSocket({ type: props.ipv ?? 'udp4', reuseAddr: true });
        socket.on('message', (data, remote) => {
          trigger?.emit({ payload: bytesToPayload(data, props.datatype ?? 'buffer'), fromip: `${remote.address}:${remote.port}`, ip: remote.address, port: remote.port })
            .catch((error: Error) => init.log.error(`udp in: the message could not be stored: ${error.message}`));
        });
        socket.on('error', (error) => init.log.warn(`udp in: port ${port}: ${error.message}`));
        await new Promise<void>((resolve, reject) => {
          socket!.once('error', (error) => reject(new Error(`udp in: cannot listen on port ${port}: ${error.message}`)));
          socket!.bind(port, bindHost(), () => resolve());
        });
        if (toBool(props.multicast) && props.group) socket.addMembership(props.group, props.iface || undefined);
        init.status({ fill: 'green', shape: 'dot', text: `listening on ${socket.address().port}` });
      },
      stop() {
        socket?.close();
        socket = undefined;
      },
    };
  },
});

export const udpOutNode = defineNode<UdpOutProps>({
  type: 'udp-out',
  category: 'network',
  label: 'udp out',
  icon: 'bridge',
  color: '#c0c0c0',
  inputs: 1,
  outputs: 0,
  props: {
    type: 'object',
    properties: {
      addr: { title: 'Address', type: 'string', default: '', description: 'Empty: msg.ip' },
      port: { title: 'Port', type: ['integer', 'string'], default: '', description: 'Empty: msg.port' },
      ipv: { title: 'IP version', enum: ['udp4', 'udp6'], default: 'udp4' },
      outport: { title: 'Local port', type: ['integer', 'string'], default: '', description: 'Send from this local port (empty: any)' },
      base64: { title: 'Decode base64', type: ['boolean', 'string'], default: false, description: 'The payload is base64 text: send its bytes' },
      multicast: { title: 'Send as', enum: ['false', 'broad', 'multi'], default: 'false', description: 'A plain datagram, a broadcast, or to a multicast group' },
      iface: { title: 'Interface', type: 'string', default: '', description: 'Local interface address for multicast' },
    },
  },
  help: `Sends \`msg.payload\` as a UDP datagram, as Node-RED's **udp out** node, to **Address**:**Port** (empty:
\`msg.ip\` / \`msg.port\`). Unicast destinations are checked by the outbound-request guard; broadcast and multicast
send on the local network as configured. Strings are sent as UTF-8 (or decoded from base64 with **Decode base64**).`,
  create(init) {
    const props = init.props;
    let socket: dgram.Socket | undefined;
    const ready = async () => {
      if (socket) return socket;
      const s = dgram.createSocket({ type: props.ipv ?? 'udp4', reuseAddr: true });
      s.on('error', (error) => init.log.warn(`udp out: ${error.message}`));
      const local = props.outport !== undefined && props.outport !== '' ? toPort(props.outport, 'udp out') : 0;
      await new Promise<void>((resolve) => s.bind(local, () => resolve()));
      if (props.multicast === 'broad') s.setBroadcast(true);
      if (props.multicast === 'multi' && props.iface) s.setMulticastInterface(props.iface);
      socket = s;
      return s;
    };
    return {
      async onInput(msg) {
        const host = props.addr || String((msg as { ip?: unknown }).ip ?? '');
        const port = toPort(props.port !== undefined && props.port !== '' ? props.port : (msg as { port?: unknown }).port, 'udp out');
        if (!host) throw new Error('udp out: no address (set Address, or msg.ip)');
        // Broadcast and multicast groups are local-network sends chosen by the flow's author, not outbound requests.
        const address = props.multicast === 'false' || props.multicast === undefined ? (await init.services.outbound.check(host, port)).addresses[0]!.address : host;
        const s = await ready();
        const bytes = payloadToBytes(msg.payload, toBool(props.base64));
        await new Promise<void>((resolve, reject) => s.send(bytes, port, address, (error) => (error ? reject(new Error(`udp out: sending to ${host}:${port} failed: ${error.message}`)) : resolve())));
      },
      close() {
        socket?.close();
        socket = undefined;
      },
    };
  },
});
