/** The `dapr` credential type: where the sidecar listens (HTTP and gRPC ports), its API token; and its test. */
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { DaprHttp, DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, type DaprFields } from './client.ts';

export const daprCredentialSchema = {
  type: 'object',
  required: ['host'],
  additionalProperties: false,
  properties: {
    host: {
      title: 'Sidecar host',
      type: 'string',
      minLength: 1,
      default: '127.0.0.1',
      description: 'Where daprd runs, usually beside Flowcrew (127.0.0.1). The outbound guard must allow it (FLOWCREW_OUTBOUND_ALLOW=127.0.0.1).',
    },
    httpPort: { title: 'HTTP port', type: 'integer', minimum: 1, maximum: 65535, default: DEFAULT_HTTP_PORT, description: "daprd's --dapr-http-port (publish, state)." },
    grpcPort: { title: 'gRPC port', type: 'integer', minimum: 1, maximum: 65535, default: DEFAULT_GRPC_PORT, description: "daprd's --dapr-grpc-port (the subscribe trigger's streaming subscription)." },
    apiToken: { title: 'API token', type: 'string', writeOnly: true, description: "The sidecar's DAPR_API_TOKEN, when it requires one." },
  },
} as const satisfies JsonSchema;

interface Metadata {
  id?: string;
  runtimeVersion?: string;
  components?: Array<{ name: string; type: string }>;
}

export const daprCredential = defineCredentialType<DaprFields>({
  name: 'dapr',
  label: 'Dapr sidecar',
  description: "A Dapr 1.14 sidecar (daprd) and its API token. The nodes use the components it loaded: its state stores and pub/sub components, by name.",
  schema: daprCredentialSchema,
  secret: ['apiToken'],
  async test(fields, services, signal) {
    const http = new DaprHttp(services.outbound, () => fields);
    try {
      const { text } = await http.request('read metadata', 'GET', '/v1.0/metadata', { signal });
      const meta = JSON.parse(text) as Metadata;
      const of = (prefix: string) => (meta.components ?? []).filter((c) => c.type.startsWith(prefix)).map((c) => c.name);
      const list = (names: string[]) => (names.length ? names.join(', ') : 'none');
      return {
        ok: true,
        message: `connected to Dapr ${meta.runtimeVersion ?? '?'} (app ${meta.id ?? '?'}) at ${http.sidecar}; state stores: ${list(of('state.'))}; pub/sub: ${list(of('pubsub.'))}`,
      };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  },
});
