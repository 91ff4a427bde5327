/** The SOAP node: call an operation the service's WSDL declares, or list them (for the editor and agents). */
import type soap from 'soap';
import { defineCredentialType, defineNode, getProperty, NodeInputError, type FlowMessage, type InputContext, type JsonSchema, type NodeCredential } from '@flowcrew/sdk';
import { describeSoap, listOperations, openSoapClient, soapFailure, soapHandle, type SoapFields } from './client.ts';

export const soapCredentialSchema = {
  type: 'object',
  required: ['wsdlUrl'],
  additionalProperties: false,
  properties: {
    wsdlUrl: { title: 'WSDL URL', type: 'string', format: 'uri', pattern: '^https?://', description: 'Where the service\'s WSDL is (often the endpoint with ?wsdl). The outbound guard must allow it.' },
    endpoint: { title: 'Endpoint', type: 'string', format: 'uri', pattern: '^https?://', description: 'Send calls here instead of the address in the WSDL.' },
    security: { title: 'Security', enum: ['none', 'ws-username', 'basic'], default: 'none', description: 'ws-username: a WS-Security UsernameToken in the SOAP header. basic: HTTP basic authentication.' },
    username: { title: 'User', type: 'string' },
    password: { title: 'Password', type: 'string', writeOnly: true, format: 'password' },
    passwordType: { title: 'Password type', enum: ['PasswordText', 'PasswordDigest'], default: 'PasswordText', description: 'ws-username: send the password as is (over TLS) or as a digest with a nonce.' },
    timeoutMs: { title: 'Timeout (ms)', type: 'integer', minimum: 100, maximum: 600_000, default: 30_000 },
  },
} as const satisfies JsonSchema;

export const soapCredential = defineCredentialType<SoapFields>({
  name: 'soap',
  label: 'SOAP service',
  description: 'A SOAP service: its WSDL, and WS-Security or basic credentials.',
  schema: soapCredentialSchema,
  secret: ['password'],
  async test(fields, services) {
    try {
      const client = await openSoapClient(fields, services.outbound);
      const operations = listOperations(client);
      return { ok: true, message: `${describeSoap(fields)}: WSDL read, ${operations.length} operations (${operations.slice(0, 5).map((o) => o.operation).join(', ')}${operations.length > 5 ? ', …' : ''})` };
    } catch (error) {
      return { ok: false, message: `${describeSoap(fields)}: connection test failed: ${soapFailure(error).said}` };
    }
  },
});

export interface SoapProps {
  action: 'call' | 'operations';
  operation?: string;
  args?: Record<string, unknown>;
  argsFrom: string;
}

const properties = {
  action: { title: 'Action', enum: ['call', 'operations'], default: 'call', description: 'call: invoke an operation. operations: list the operations the WSDL declares, with their input and output.' },
  operation: { title: 'Operation', type: 'string', 'x-optionsSource': 'operations', description: 'The operation to call: its name (Add), or Service.Port.Operation when the WSDL has several services or ports with that name.' },
  args: { title: 'Arguments', type: 'object', description: 'Fixed arguments; those in the message (see "Arguments from") are added over them.' },
  argsFrom: { title: 'Arguments from', type: 'string', default: 'payload', description: 'The message property holding the arguments (an object shaped as the operation\'s input).' },
} as const;

const help = `# SOAP

Calls an operation of a SOAP service, with a **soap** credential (the WSDL's URL, an optional endpoint, and
WS-Security UsernameToken or HTTP basic authentication). The arguments are \`msg.payload\` (or \`argsFrom\`), merged
over \`args\`; \`msg.payload\` becomes the operation's result, \`msg.soapHeaders\` the response's SOAP headers.

**operations** lists what the WSDL declares (\`Service.Port.Operation\`, input and output): the editor offers them,
and an AI agent can read them before calling one.

A SOAP fault fails the invocation with its code and text (not retried); HTTP 5xx and lost connections are retried.`;

function findMethod(client: soap.Client, operation: string): (args: unknown) => Promise<[unknown, string, unknown, string]> {
  const parts = operation.split('.');
  const all = listOperations(client);
  const matches = parts.length === 3 ? all.filter((o) => o.service === parts[0] && o.port === parts[1] && o.operation === parts[2]) : all.filter((o) => o.operation === operation);
  if (matches.length === 0) throw new NodeInputError(`the WSDL has no operation "${operation}" (it has: ${[...new Set(all.map((o) => o.operation))].join(', ')})`);
  if (matches.length > 1 && new Set(matches.map((m) => `${m.service}.${m.port}`)).size > 1) {
    throw new NodeInputError(`"${operation}" is in several ports: name one of ${matches.map((m) => `${m.service}.${m.port}.${m.operation}`).join(', ')}`);
  }
  const m = matches[0]!;
  const service = (client as unknown as Record<string, Record<string, Record<string, (args: unknown, cb: (...a: unknown[]) => void) => void>>>)[m.service]![m.port]!;
  return (args) =>
    new Promise((resolve, reject) =>
      service[m.operation]!(args, (error: unknown, result: unknown, raw: unknown, headers: unknown, rawRequest: unknown) => (error ? reject(error) : resolve([result, raw as string, headers, rawRequest as string]))),
    );
}

export const soapNode = defineNode<SoapProps>({
  type: 'soap',
  category: 'network',
  label: 'SOAP',
  icon: 'soap',
  color: '#6d8fb3',
  inputs: 1,
  outputs: 1,
  props: { type: 'object', additionalProperties: false, properties, allOf: [{ if: { properties: { action: { const: 'call' } } }, then: { required: ['operation'], properties: { operation: {}, args: {}, argsFrom: {} } } }] },
  credentials: { type: soapCredential.name, schema: soapCredential.schema, required: true },
  help,
  usableAsTool: true,
  optionSources: {
    // The editor's choices for "operation": what the credential's WSDL declares.
    async operations({ credentials, services }) {
      if (!credentials) throw new Error('attach a soap credential to list its operations');
      const client = await openSoapClient(credentials as SoapFields, services.outbound);
      const operations = listOperations(client);
      const ambiguous = (name: string) => operations.filter((o) => o.operation === name).length > 1;
      return operations.map((o) => ({ value: ambiguous(o.operation) ? `${o.service}.${o.port}.${o.operation}` : o.operation, label: `${o.operation} (${o.service}.${o.port})` }));
    },
  },
  create(init) {
    const credential = init.credential as NodeCredential<SoapFields> | undefined;
    if (!credential) throw new Error('the SOAP node needs a soap credential');
    const p: SoapProps = { ...init.props, action: init.props.action ?? 'call', argsFrom: init.props.argsFrom ?? 'payload' };
    const pool = soapHandle(init.services, credential);
    return {
      async onInput(msg: FlowMessage, ctx: InputContext) {
        const server = describeSoap(credential.fields);
        const what = p.action === 'operations' ? 'reading the WSDL' : `${p.operation}`;
        try {
          return await pool.use(async (client) => {
            if (p.action === 'operations') return { ...msg, payload: listOperations(client) };
            const call = findMethod(client, p.operation!);
            const fromMsg = getProperty(msg, p.argsFrom);
            if (fromMsg !== undefined && (typeof fromMsg !== 'object' || fromMsg === null || Array.isArray(fromMsg))) throw new NodeInputError(`msg.${p.argsFrom} must be an object of arguments`);
            if (ctx.signal.aborted) throw ctx.signal.reason as Error;
            const [result, , headers] = await call({ ...p.args, ...(fromMsg as object | undefined) });
            return { ...msg, payload: result, ...(headers ? { soapHeaders: headers } : {}) };
          });
        } catch (error) {
          if (error instanceof NodeInputError) throw new NodeInputError(`${server}: ${what}: ${error.message}`);
          const { said, retryable } = soapFailure(error);
          throw Object.assign(new Error(`${server}: ${what} failed: ${said}`), { retryable });
        }
      },
      close() {
        pool.release();
      },
    };
  },
});
