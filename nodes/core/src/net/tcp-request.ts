/**
 * tcp request: Node-RED's TCP request node. Connects to host:port (the node's, or msg.host/msg.port when it has
 * none), writes msg.payload and sends on what comes back: after a fixed time (*time*), up to and including a
 * delimiter byte (*char*), a number of bytes (*count*), the first chunk on a connection kept open (*sit*), or
 * nothing at all (*immed*: write and close). Every connection goes through the outbound-request guard.
 */
import net from 'node:net';
import { defineNode, type FlowMessage } from '@flowcrew/sdk';
import { bytesToPayload, payloadToBytes, toPort } from './payload.ts';

export interface TcpRequestProps {
  server?: string;
  port?: number | string;
  out?: 'time' | 'char' | 'count' | 'sit' | 'immed';
  ret?: 'buffer' | 'string';
  splitc?: string | number;
  timeoutMs?: number;
}

/** Node-RED's delimiter: a character, an escape like \n, or 0x.. */
function delimiterByte(splitc: string | number | undefined): number {
  const text = String(splitc ?? '\\n');
  if (text.startsWith('\\')) return ({ '\\n': 0x0a, '\\r': 0x0d, '\\t': 0x09, '\\e': 0x1b, '\\f': 0x0c, '\\0': 0x00 } as Record<string, number>)[text] ?? text.charCodeAt(1);
  if (text.startsWith('0x')) return Number.parseInt(text, 16);
  return text.charCodeAt(0);
}

export const tcpRequestNode = defineNode<TcpRequestProps>({
  type: 'tcp-request',
  category: 'network',
  label: 'tcp request',
  icon: 'bridge',
  color: '#c0c0c0',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      server: { title: 'Host', type: 'string', default: '', description: 'Empty: msg.host' },
      port: { title: 'Port', type: ['integer', 'string'], default: '', description: 'Empty: msg.port' },
      out: { title: 'Return', enum: ['time', 'char', 'count', 'sit', 'immed'], default: 'time', description: 'After a time, at a delimiter, after N bytes, the first answer on a kept connection, or never' },
      splitc: { title: 'Wait for', type: ['string', 'number'], default: '0', description: 'time: milliseconds; char: the delimiter (e.g. \\n or 0x0A); count: bytes' },
      ret: { title: 'Data as', enum: ['buffer', 'string'], default: 'buffer', description: 'base64 text (buffer) or UTF-8 text (string)' },
      timeoutMs: { title: 'Give up after (ms)', type: 'integer', minimum: 1, default: 30000, description: 'Fail the request when no complete answer arrives in time' },
    },
  },
  help: `Sends \`msg.payload\` to a TCP server and returns its answer in \`msg.payload\`, as Node-RED's **tcp request**.

- **Host**/**Port**: the server (empty: \`msg.host\` / \`msg.port\`), checked by the outbound-request guard.
- **Return**: *time* — what arrived in the **Wait for** milliseconds after the first byte; *char* — up to and
  including the delimiter byte; *count* — that many bytes; *sit* — the first answer, keeping the connection open for
  the next message; *immed* — write and close, the message passes on unchanged.
- **Data as**: *buffer* returns base64 text (messages are stored with the run), *string* UTF-8 text.
- A request with no complete answer within **Give up after** fails, naming the host.`,
  create(init) {
    const props = init.props;
    const out = props.out ?? 'time';
    const kept = new Map<string, net.Socket>();

    return {
      async onInput(msg: FlowMessage, ctx) {
        const host = props.server || String((msg as { host?: unknown }).host ?? '');
        const port = toPort(props.port !== undefined && props.port !== '' ? props.port : (msg as { port?: unknown }).port, 'tcp request');
        if (!host) throw new Error('tcp request: no host (set Host, or msg.host)');
        const target = await init.services.outbound.check(host, port);
        const key = `${target.addresses[0]!.address}:${port}`;
        let socket = out === 'sit' ? kept.get(key) : undefined;
        if (!socket || socket.destroyed) {
          socket = net.connect({ host: target.addresses[0]!.address, port });
          await new Promise<void>((resolve, reject) => {
            socket!.once('connect', resolve);
            socket!.once('error', (error) => reject(new Error(`tcp request: cannot connect to ${host}:${port}: ${error.message}`)));
          });
          if (out === 'sit') { kept.set(key, socket); socket.on('close', () => kept.delete(key)); socket.on('error', () => undefined); }
        }
        const bytes = payloadToBytes(msg.payload, false);
        if (out === 'immed') {
          await new Promise<void>((resolve) => socket!.end(bytes, () => resolve()));
          return msg;
        }
        const answer = await new Promise<Buffer>((resolve, reject) => {
          const chunks: Buffer[] = [];
          let size = 0;
          let timer: NodeJS.Timeout | undefined;
          const give = setTimeout(() => finish(new Error(`tcp request: no complete answer from ${host}:${port} within ${props.timeoutMs ?? 30000} ms`)), props.timeoutMs ?? 30_000);
          const onAbort = () => finish(new Error('tcp request: cancelled'));
          ctx.signal.addEventListener('abort', onAbort, { once: true });
          const finish = (result: Buffer | Error) => {
            clearTimeout(give); clearTimeout(timer);
            ctx.signal.removeEventListener('abort', onAbort);
            socket!.removeListener('data', onData); socket!.removeListener('error', onError); socket!.removeListener('close', onClose);
            if (out !== 'sit' || result instanceof Error) socket!.destroy();
            result instanceof Error ? reject(result) : resolve(result);
          };
          const onData = (data: Buffer) => {
            chunks.push(data); size += data.length;
            const all = () => Buffer.concat(chunks, size);
            if (out === 'sit') return finish(all());
            if (out === 'char') { const at = all().indexOf(delimiterByte(props.splitc)); if (at >= 0) finish(all().subarray(0, at + 1)); return; }
            if (out === 'count') { const n = Math.max(1, Number(props.splitc) || 1); if (size >= n) finish(all().subarray(0, n)); return; }
            timer ??= setTimeout(() => finish(all()), Math.max(0, Number(props.splitc) || 0));
          };
          const onError = (error: Error) => finish(new Error(`tcp request: ${host}:${port}: ${error.message}`));
          const onClose = () => (size > 0 ? finish(Buffer.concat(chunks, size)) : finish(new Error(`tcp request: ${host}:${port} closed the connection without answering`)));
          socket!.on('data', onData); socket!.on('error', onError); socket!.on('close', onClose);
          socket!.write(bytes);
        });
        return { ...msg, payload: props.ret === 'string' ? answer.toString('utf8') : bytesToPayload(answer, 'buffer') };
      },
      close() {
        for (const socket of kept.values()) socket.destroy();
      },
    };
  },
});
