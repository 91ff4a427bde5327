/**
 * The Socket.IO client for live run events. It remembers what the editor subscribed to, so after a lost
 * connection it subscribes again by itself and then tells listeners to resynchronise (events sent while
 * the connection was down are gone; the REST API has the runs). A flow subscription may carry `debugAfter`: the
 * runtime then pushes the flow's buffered debug messages numbered above it (`debug:catchup`) right after joining.
 */
import { io, type Socket } from 'socket.io-client';
import type { LiveEvents } from './types';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export type SubscribeTarget = { flowId: string } | { runId: string };

type Handler<K extends keyof LiveEvents> = (event: LiveEvents[K]) => void;

const keyOf = (target: SubscribeTarget) => ('flowId' in target ? `flow:${target.flowId}` : `run:${target.runId}`);

export interface LiveClientOptions {
  /** Origin of the runtime; the page's own origin when omitted. */
  url?: string;
  /** Passed to socket.io-client (tests shorten the reconnection delays). */
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
  /**
   * The handshake's credentials, asked for at every (re)connection: `{ token }` when signed in through Keycloak (a
   * fresh access token each time). Without it the handshake carries the session cookie, as any same-origin request.
   */
  auth?: () => Promise<Record<string, string>>;
  /**
   * For each flow subscription, asked at every (re)subscription: the debug seq after which the runtime should push
   * the flow's buffered messages as `debug:catchup` (0: all it keeps). Without it no catch-up is pushed.
   */
  debugAfter?: (flowId: string) => number;
}

/** The runtime refused the handshake's credentials (Socket.IO does not retry those by itself). */
function isAuthRefusal(error: Error & { data?: { status?: number } }): boolean {
  return error.data?.status === 401 || error.data?.status === 403 || /unauthori[sz]ed|forbidden|authenticat/i.test(error.message);
}

export class LiveClient {
  private readonly socket: Socket;
  private readonly targets = new Map<string, SubscribeTarget>();
  private readonly stateListeners = new Set<(state: ConnectionState, since: number) => void>();
  private readonly resyncListeners = new Set<(disconnectedAt: number, subscribed: SubscribeTarget[]) => void>();
  private readonly authErrorListeners = new Set<() => void>();
  private state: ConnectionState = 'connecting';
  private disconnectedAt = 0;
  private everConnected = false;
  private readonly debugAfter?: (flowId: string) => number;

  constructor(options: LiveClientOptions = {}) {
    const auth = options.auth;
    this.debugAfter = options.debugAfter;
    const opts = {
      path: '/socket.io',
      reconnectionDelay: options.reconnectionDelay ?? 500,
      reconnectionDelayMax: options.reconnectionDelayMax ?? 5000,
      withCredentials: true,
      ...(auth ? { auth: (cb: (data: object) => void) => void auth().then(cb, () => cb({})) } : {}),
    };
    this.socket = options.url ? io(options.url, opts) : io(opts);
    this.socket.on('connect', () => {
      const wasReconnect = this.everConnected;
      this.everConnected = true;
      this.setState('connected');
      // A new connection has joined no rooms: subscribe to everything again, then ask listeners to catch up on what
      // was subscribed (one refused subscription, e.g. a flow deleted meanwhile, does not stop the others').
      const targets = [...this.targets.values()];
      void Promise.allSettled(targets.map((t) => this.emitSubscribe(t))).then((answers) => {
        // Disconnected again before the answers came (a sign-out, a restart): the next connection subscribes anew.
        if (!wasReconnect || !this.socket.connected) return;
        const subscribed = targets.filter((_, i) => answers[i]!.status === 'fulfilled');
        for (const listener of this.resyncListeners) listener(this.disconnectedAt, subscribed);
      });
    });
    this.socket.on('disconnect', (reason) => {
      this.disconnectedAt = Date.now();
      this.setState('reconnecting');
      // The client reconnects by itself after network trouble, but not when the server closed the connection
      // (a runtime shutting down): try again then too, the runtime may be back shortly.
      if (reason === 'io server disconnect') setTimeout(() => this.socket.connect(), opts.reconnectionDelay);
    });
    this.socket.on('connect_error', (error) => {
      if (isAuthRefusal(error)) for (const listener of this.authErrorListeners) listener();
      if (!this.everConnected) this.setState('connecting');
      else this.setState('reconnecting');
      if (!this.disconnectedAt) this.disconnectedAt = Date.now();
    });
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** This connection's id while connected: a test run started with it sends its live events here (pins/live.ts). */
  get id(): string | undefined {
    return this.socket.connected ? this.socket.id : undefined;
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    for (const listener of this.stateListeners) listener(state, Date.now());
  }

  private emitSubscribe(target: SubscribeTarget): Promise<void> {
    const payload = 'flowId' in target && this.debugAfter ? { ...target, debugAfter: this.debugAfter(target.flowId) } : target;
    return new Promise((resolve, reject) => {
      this.socket.timeout(5000).emit('subscribe', payload, (error: Error | null, answer?: { ok: boolean; error?: string }) => {
        if (error) reject(error);
        else if (!answer?.ok) reject(new Error(answer?.error ?? 'subscribe refused'));
        else resolve();
      });
    });
  }

  /** Subscribe now if connected, and again after every reconnection. */
  async subscribe(target: SubscribeTarget): Promise<void> {
    const key = keyOf(target);
    if (this.targets.has(key)) return;
    this.targets.set(key, target);
    if (this.socket.connected) await this.emitSubscribe(target).catch(() => undefined);
  }

  unsubscribe(target: SubscribeTarget): void {
    if (!this.targets.delete(keyOf(target))) return;
    if (this.socket.connected) this.socket.emit('unsubscribe', target);
  }

  on<K extends keyof LiveEvents>(event: K, handler: Handler<K>): () => void {
    this.socket.on(event as string, handler as (payload: unknown) => void);
    return () => void this.socket.off(event as string, handler as (payload: unknown) => void);
  }

  onState(listener: (state: ConnectionState, since: number) => void): () => void {
    this.stateListeners.add(listener);
    return () => void this.stateListeners.delete(listener);
  }

  /** Called after a reconnection, with the time the connection was lost and what was subscribed again. */
  onResync(listener: (disconnectedAt: number, subscribed: SubscribeTarget[]) => void): () => void {
    this.resyncListeners.add(listener);
    return () => void this.resyncListeners.delete(listener);
  }

  /** Called when the runtime refuses the handshake's credentials; connect again with `reconnect()` once signed in. */
  onAuthError(listener: () => void): () => void {
    this.authErrorListeners.add(listener);
    return () => void this.authErrorListeners.delete(listener);
  }

  /** Connect again now (after signing in again: a refused handshake is not retried by Socket.IO). */
  reconnect(): void {
    if (!this.socket.connected) this.socket.connect();
  }

  close(): void {
    this.socket.close();
    this.setState('disconnected');
  }
}
