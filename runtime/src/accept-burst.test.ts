import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptingConnections, watchAccepts } from './accept-burst.ts';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('accept bursts', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const undo of cleanup.splice(0)) undo();
  });

  it('is on while connections are accepted turn after turn, and off after a turn that accepted none', async () => {
    const server = net.createServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => server.close());
    cleanup.push(watchAccepts(server));
    const { port } = server.address() as net.AddressInfo;
    expect(acceptingConnections()).toBe(false);

    const seen: boolean[] = [];
    server.on('connection', () => seen.push(acceptingConnections()));
    const clients = Array.from({ length: 20 }, () => net.connect(port, '127.0.0.1'));
    cleanup.push(() => clients.forEach((c) => c.destroy()));
    while (seen.length < clients.length) await nextTurn();
    // libuv accepts one connection per turn: the burst lasted many turns, and was seen as one throughout.
    expect(seen.every(Boolean)).toBe(true);
    expect(acceptingConnections()).toBe(true);

    await nextTurn();
    await nextTurn();
    expect(acceptingConnections()).toBe(false);
  });

  it('stops following a server when told', async () => {
    const server = net.createServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => server.close());
    watchAccepts(server)();
    const { port } = server.address() as net.AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    cleanup.push(() => client.destroy());
    await new Promise((resolve) => server.once('connection', resolve));
    expect(acceptingConnections()).toBe(false);
  });
});
