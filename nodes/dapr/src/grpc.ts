/**
 * The sidecar's gRPC API, for what its HTTP API does not offer: the streaming subscription (a subscriber that needs
 * no inbound route and can come and go while the sidecar runs). The proto file is the subset of Dapr 1.14's own
 * (proto/dapr-subscribe.proto). The address is checked by the outbound guard; the client connects to the checked
 * address, not to the name again.
 */
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import { lazyImport, type OutboundServices } from '@flowcrew/sdk';
import { DEFAULT_GRPC_PORT, type DaprFields } from './client.ts';

export interface TopicEvent {
  id: string;
  source: string;
  type: string;
  specVersion: string;
  dataContentType: string;
  data: Buffer;
  topic: string;
  pubsubName: string;
  /** CloudEvent attributes beyond the standard ones (google.protobuf.Struct as proto-loader decodes it). */
  extensions?: { fields?: Record<string, { stringValue?: string; numberValue?: number; boolValue?: boolean }> };
}

/** The extension attributes as plain values. */
export function extensionsOf(event: TopicEvent): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [name, value] of Object.entries(event.extensions?.fields ?? {})) {
    const plain = value.stringValue ?? value.numberValue ?? value.boolValue;
    if (plain !== undefined) out[name] = plain;
  }
  return out;
}

export type EventStatus = 'SUCCESS' | 'RETRY' | 'DROP';

/** What daprd streams to a subscriber: first the initial response, then events. */
export interface StreamResponse {
  initialResponse?: Record<string, never>;
  eventMessage?: TopicEvent;
}

export type SubscribeStream = grpc.ClientDuplexStream<Record<string, unknown>, StreamResponse>;

interface DaprGrpcClient extends grpc.Client {
  SubscribeTopicEventsAlpha1(metadata: grpc.Metadata): SubscribeStream;
}

let clientClass: (new (address: string, credentials: grpc.ChannelCredentials) => DaprGrpcClient) | undefined;

/** gRPC and its proto loader (with protobufjs: ~4 MB of heap), imported when a subscription first opens, not at start. */
const loadGrpc = lazyImport('@grpc/grpc-js', async () => {
  const [grpcJs, protoLoader] = await Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader')]);
  return { grpc: grpcJs, protoLoader };
});

function daprClientClass({ grpc, protoLoader }: Awaited<ReturnType<typeof loadGrpc>>) {
  if (!clientClass) {
    const definition = protoLoader.loadSync(fileURLToPath(new URL('../proto/dapr-subscribe.proto', import.meta.url)), {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as { dapr: { proto: { runtime: { v1: { Dapr: typeof clientClass } } } } };
    clientClass = loaded.dapr.proto.runtime.v1.Dapr;
  }
  return clientClass!;
}

export interface GrpcConnection {
  client: DaprGrpcClient;
  metadata(): grpc.Metadata;
  close(): void;
}

export async function openGrpc(fields: DaprFields, outbound: OutboundServices): Promise<GrpcConnection> {
  const port = fields.grpcPort ?? DEFAULT_GRPC_PORT;
  const target = await outbound.check(fields.host, port);
  const first = target.addresses[0];
  if (!first) throw new Error(`${fields.host} resolved to no allowed address`);
  const address = first.family === 6 ? `[${first.address}]:${port}` : `${first.address}:${port}`;
  const libs = await loadGrpc();
  const { grpc } = libs;
  const Client = daprClientClass(libs);
  const client = new Client(address, grpc.credentials.createInsecure());
  return {
    client,
    metadata() {
      const metadata = new grpc.Metadata();
      if (fields.apiToken) metadata.set('dapr-api-token', fields.apiToken);
      return metadata;
    },
    close: () => client.close(),
  };
}
