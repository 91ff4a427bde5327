/**
 * A node's own channel on the shared connection: opened on first use, opened again after the channel or the
 * connection closed (a channel error such as publishing to a missing exchange closes only that channel).
 */
import type { Channel, ConfirmChannel } from 'amqplib';
import type { PooledResource } from '@flowcrew/sdk';
import { liveConnection, type RabbitConnection } from './connect.ts';

export class NodeChannel<C extends Channel> {
  private channel: C | undefined;
  private opening: Promise<C> | undefined;
  private connection: RabbitConnection | undefined;
  /** Why the last channel closed, as the broker said it ("404 (NOT-FOUND) with message ..."). */
  lastError: Error | undefined;

  constructor(
    private readonly handle: PooledResource<RabbitConnection>,
    private readonly create: (connection: RabbitConnection) => Promise<C>,
    private readonly onClose?: () => void,
  ) {}

  async get(): Promise<C> {
    const connection = await liveConnection(this.handle);
    if (this.channel && this.connection === connection) return this.channel;
    this.opening ??= this.open(connection).finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async open(connection: RabbitConnection): Promise<C> {
    const channel = await this.create(connection);
    this.lastError = undefined;
    channel.on('error', (error: Error) => (this.lastError = error));
    channel.on('close', () => {
      if (this.channel === channel) {
        this.channel = undefined;
        this.onClose?.();
      }
    });
    this.channel = channel;
    this.connection = connection;
    return channel;
  }

  /** Close the channel (the connection stays: other nodes share it). */
  async close(): Promise<void> {
    const channel = this.channel;
    const connection = this.connection;
    this.channel = undefined;
    if (!channel || !connection || connection.closed) return;
    // A channel's close waits for the broker's answer, which never comes when the connection closes meanwhile
    // (a credential edit retires it): done at whichever comes first.
    let onClosed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => connection.model.once('close', (onClosed = () => resolve())));
    await Promise.race([channel.close().catch(() => undefined), connectionClosed]);
    connection.model.off('close', onClosed);
  }
}

export type { ConfirmChannel };
