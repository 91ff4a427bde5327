/**
 * SOAP clients built from a service's WSDL (the `soap` package), one per credential revision, shared through the
 * runtime's pooled resources. Every request (the WSDL, its imports, the calls) goes through the outbound guard:
 * soap's HTTP client is given an axios instance whose fetch is `services.outbound.fetch`.
 */
import type soap from 'soap';
import { PooledResource, type NodeCredential, type OutboundServices, type RuntimeServices } from '@flowcrew/sdk';
import { loadAxios, loadSoap } from '../libs.ts';

export interface SoapFields extends Record<string, unknown> {
  wsdlUrl: string;
  /** Where calls go when not where the WSDL says (the same service on another host). */
  endpoint?: string;
  security?: 'none' | 'ws-username' | 'basic';
  username?: string;
  password?: string;
  passwordType?: 'PasswordText' | 'PasswordDigest';
  timeoutMs?: number;
}

export function describeSoap(fields: Pick<SoapFields, 'wsdlUrl' | 'endpoint'>): string {
  return `SOAP ${new URL(fields.endpoint || fields.wsdlUrl).host}`;
}

async function guardedAxios(outbound: OutboundServices, timeoutMs: number) {
  const axios = await loadAxios();
  // axios's fetch adapter hands over a Request; the guard takes a URL (SOAP bodies are small: read it whole).
  const guardedFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    if (!(input instanceof Request)) return outbound.fetch(input as string | URL, init);
    const body = input.body ? await input.arrayBuffer() : undefined;
    return outbound.fetch(input.url, { method: input.method, headers: input.headers, body, signal: input.signal, ...init });
  };
  const instance = axios.create({ adapter: 'fetch', env: { fetch: guardedFetch }, timeout: timeoutMs } as never);
  // fetch computes Content-Length itself (and refuses to be told).
  instance.interceptors.request.use((config) => {
    config.headers.delete('Content-Length');
    return config;
  });
  return instance;
}

export async function openSoapClient(fields: SoapFields, outbound: OutboundServices): Promise<soap.Client> {
  const [soap, request] = await Promise.all([loadSoap(), guardedAxios(outbound, fields.timeoutMs ?? 30_000)]);
  const basic = fields.security === 'basic' ? { Authorization: `Basic ${Buffer.from(`${fields.username ?? ''}:${fields.password ?? ''}`).toString('base64')}` } : undefined;
  const client = await soap.createClientAsync(fields.wsdlUrl, {
    request: request as never,
    disableCache: true,
    ...(basic ? { wsdl_headers: basic } : {}),
    ...(fields.endpoint ? { endpoint: fields.endpoint } : {}),
  });
  if (fields.security === 'ws-username') {
    client.setSecurity(new soap.WSSecurity(fields.username ?? '', fields.password ?? '', { passwordType: fields.passwordType ?? 'PasswordText', hasTimeStamp: true, hasTokenCreated: true, hasNonce: fields.passwordType === 'PasswordDigest' }));
  } else if (fields.security === 'basic') {
    client.setSecurity(new soap.BasicAuthSecurity(fields.username ?? '', fields.password ?? ''));
  }
  return client;
}

/** The operations the WSDL declares, as `Service.Port.Operation` with their input and output shapes. */
export function listOperations(client: soap.Client): Array<{ service: string; port: string; operation: string; input: unknown; output: unknown }> {
  const described = client.describe() as Record<string, Record<string, Record<string, { input: unknown; output: unknown }>>>;
  const operations = [];
  for (const [service, ports] of Object.entries(described)) {
    for (const [port, ops] of Object.entries(ports)) {
      for (const [operation, shape] of Object.entries(ops)) operations.push({ service, port, operation, input: shape.input, output: shape.output });
    }
  }
  return operations;
}

export function soapHandle(services: RuntimeServices, credential: NodeCredential<SoapFields>): PooledResource<soap.Client> {
  return new PooledResource<soap.Client>(services.resources, 'protocols:soap', async () => openSoapClient(credential.fields, services.outbound), () => undefined, { credential, idleMs: 60_000 });
}

/** What a SOAP failure says: the fault's code and text when there is one, else the HTTP status or the reason. */
export function soapFailure(error: unknown): { said: string; retryable: boolean } {
  const e = error as Error & { root?: { Envelope?: { Body?: { Fault?: Record<string, unknown> } } }; response?: { status?: number }; code?: string };
  const fault = e.root?.Envelope?.Body?.Fault;
  if (fault) {
    const code = fault.faultcode ?? (fault.Code as { Value?: unknown } | undefined)?.Value;
    const text = fault.faultstring ?? (fault.Reason as { Text?: unknown } | undefined)?.Text;
    return { said: `Fault ${String(code)}: ${typeof text === 'object' ? JSON.stringify(text) : String(text)}`, retryable: false };
  }
  const status = e.response?.status;
  if (status) return { said: `HTTP ${status}${e.message ? `: ${e.message}` : ''}`, retryable: status >= 500 || status === 429 };
  return { said: e.message ?? String(error), retryable: e.name !== 'OutboundRefusedError' && !/refused by the outbound/i.test(e.message ?? '') };
}
