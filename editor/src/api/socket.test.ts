// @vitest-environment node
/**
 * The live client against a real Socket.IO server: its handshake carries a fresh bearer token at every connection,
 * and a refused handshake is reported (so the editor asks to sign in again) and retried once signed in; a flow
 * subscription asks for the debug messages after the last one seen, again at every reconnection.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveClient } from './socket';

let http: HttpServer;
let io: Server;
let client: LiveClient | undefined;

async function serve(accept: (token: unknown) => boolean): Promise<{ url: string; seen: unknown[] }> {
  const seen: unknown[] = [];
  http = createServer();
  io = new Server(http, { path: '/socket.io' });
  io.use((socket, next) => {
    seen.push(socket.handshake.auth.token);
    if (accept(socket.handshake.auth.token)) next();
    else next(Object.assign(new Error('Unauthorized'), { data: { status: 401 } }));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, seen };
}

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

afterEach(async () => {
  client?.close();
  client = undefined;
  io?.close();
  await new Promise((resolve) => http?.close(resolve));
});

describe('live client authentication', () => {
  it('sends the current bearer token in the handshake, asking again at each connection', async () => {
    const { url, seen } = await serve(() => true);
    let n = 0;
    client = new LiveClient({ url, reconnectionDelay: 50, reconnectionDelayMax: 100, auth: async () => ({ token: `access-${++n}` }) });
    await until(() => client!.connectionState === 'connected', 'the first connection');
    io.disconnectSockets(); // the server drops it: the client comes back with a fresh token
    await until(() => seen.length === 2 && client!.connectionState === 'connected', 'the reconnection');
    expect(seen).toEqual(['access-1', 'access-2']);
  });

  it('reports a refused handshake, and connects once it has credentials again', async () => {
    let valid = 'nobody';
    const { url, seen } = await serve((token) => token === valid);
    let refusals = 0;
    let token = 'expired';
    client = new LiveClient({ url, reconnectionDelay: 50, reconnectionDelayMax: 100, auth: async () => ({ token }) });
    client.onAuthError(() => refusals++);
    await until(() => refusals === 1, 'the refusal');
    expect(client.connectionState).toBe('connecting');
    valid = token = 'fresh';
    client.reconnect();
    await until(() => client!.connectionState === 'connected', 'the connection after signing in again');
    expect(seen).toEqual(['expired', 'fresh']);
  });
});

describe('live client subscriptions', () => {
  it('sends debugAfter with each flow subscription, asked afresh when it subscribes again after a reconnection', async () => {
    const { url } = await serve(() => true);
    const asked: unknown[] = [];
    io.on('connection', (socket) => {
      socket.on('subscribe', (target: { flowId?: string; runId?: string }, ack: (answer: object) => void) => {
        asked.push(target);
        // A flow deleted meanwhile: refused, which does not keep the others from being caught up.
        ack(target.flowId === 'gone' && asked.length > 3 ? { ok: false, error: 'flow "gone" not found' } : { ok: true });
      });
    });
    let lastSeen = 0;
    const resyncs: unknown[] = [];
    client = new LiveClient({ url, reconnectionDelay: 50, reconnectionDelayMax: 100, debugAfter: () => lastSeen });
    client.onResync((_since, subscribed) => resyncs.push(subscribed));
    await until(() => client!.connectionState === 'connected', 'the connection');
    await client.subscribe({ flowId: 'orders' });
    await client.subscribe({ flowId: 'gone' });
    await client.subscribe({ runId: 'r1' });
    expect(asked).toEqual([{ flowId: 'orders', debugAfter: 0 }, { flowId: 'gone', debugAfter: 0 }, { runId: 'r1' }]);
    lastSeen = 41;
    io.disconnectSockets();
    await until(() => resyncs.length === 1, 'the resync after reconnecting');
    expect(asked.slice(3)).toEqual([{ flowId: 'orders', debugAfter: 41 }, { flowId: 'gone', debugAfter: 41 }, { runId: 'r1' }]);
    expect(resyncs).toEqual([[{ flowId: 'orders' }, { runId: 'r1' }]]);
  });
});
