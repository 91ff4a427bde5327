/**
 * The SOAP node against a real SOAP server run here with the `soap` package (a document/literal calculator, its
 * WSDL served at ?wsdl), which requires a WS-Security UsernameToken: operations listed from the WSDL, calls, faults,
 * wrong credentials and the outbound guard.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import soap from 'soap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import type { RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import type { SoapFields } from './client.ts';
import { soapCredential, soapNode, type SoapProps } from './node.ts';

const wsdl = readFileSync(new URL('./calculator.wsdl', import.meta.url), 'utf8');
const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });
let server: http.Server;
let fields: SoapFields;
const seenTokens: string[] = [];

const service = {
  CalculatorService: {
    CalculatorPort: {
      Add: ({ a, b }: { a: number; b: number }) => ({ result: Number(a) + Number(b) }),
      Divide: ({ a, b }: { a: number; b: number }) => {
        if (Number(b) === 0) throw { Fault: { faultcode: 'soap:Client', faultstring: 'division by zero' } };
        return { result: Number(a) / Number(b) };
      },
    },
  },
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const soapServer = soap.listen(server, '/calculator', service, wsdl.replace('http://127.0.0.1:0/calculator', `${base}/calculator`));
  // WS-Security: the UsernameToken must name the test user with the right password, else a fault.
  soapServer.authenticate = (security: { UsernameToken?: { Username?: string; Password?: { $value?: string } | string } }) => {
    const token = security?.UsernameToken;
    const password = typeof token?.Password === 'object' ? token.Password.$value : token?.Password;
    seenTokens.push(token?.Username ?? '');
    return token?.Username === 'ada' && password === 'lovelace';
  };
  fields = { wsdlUrl: `${base}/calculator?wsdl`, security: 'ws-username', username: 'ada', password: 'lovelace' };
});
afterAll(async () => {
  await closeTestServices();
  await outbound.close();
  await new Promise((resolve) => server.close(resolve));
});

const run = async (props: Partial<SoapProps>, msg = {}, f: SoapFields = fields, id = 'soap') => {
  const node = await createTestNode(soapNode, props, { credentials: f, credential: { id } });
  return (await node.input(msg))[0]!.msg;
};
async function failure(promise: Promise<unknown>): Promise<Error & { retryable?: boolean }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('soap node against a real soap server', () => {
  it('lists the operations the WSDL declares, with their input and output', async () => {
    const operations = (await run({ action: 'operations' })).payload as Array<{ service: string; port: string; operation: string; input: unknown }>;
    expect(operations.map((o) => `${o.service}.${o.port}.${o.operation}`)).toEqual(['CalculatorService.CalculatorPort.Add', 'CalculatorService.CalculatorPort.Divide']);
    expect(operations[0]!.input).toMatchObject({ a: 'xsd:int', b: 'xsd:int' });
  });

  it('calls an operation with a WS-Security username token, arguments from props and the message', async () => {
    expect((await run({ operation: 'Add', args: { a: 2 } }, { payload: { b: 40 } })).payload).toEqual({ result: 42 });
    expect((await run({ operation: 'CalculatorService.CalculatorPort.Divide' }, { payload: { a: 9, b: 2 } })).payload).toEqual({ result: 4.5 });
    expect(seenTokens).toContain('ada');
  });

  it('fails with the fault the service sent, an unknown operation, or wrong credentials', async () => {
    const fault = await failure(run({ operation: 'Divide' }, { payload: { a: 1, b: 0 } }));
    expect(fault.message).toMatch(/^SOAP 127\.0\.0\.1:\d+: Divide failed: Fault soap:Client: division by zero$/);
    expect(fault.retryable).toBe(false);
    expect((await failure(run({ operation: 'Multiply' }))).message).toMatch(/Multiply: the WSDL has no operation "Multiply" \(it has: Add, Divide\)/);
    const denied = await failure(run({ operation: 'Add' }, { payload: { a: 1, b: 1 } }, { ...fields, password: 'wrong' }, 'wrong'));
    expect(denied.message).toMatch(/^SOAP 127\.0\.0\.1:\d+: Add failed: Fault .*(Invalid username or password|authentication)/i);
  });

  it('the credential test reads the WSDL; the outbound guard refuses what the administrator did not allow', async () => {
    const services = { outbound } as unknown as RuntimeServices;
    expect(await soapCredential.test!(fields, services, new AbortController().signal)).toEqual({ ok: true, message: expect.stringMatching(/^SOAP 127\.0\.0\.1:\d+: WSDL read, 2 operations \(Add, Divide\)$/) });
    const strict = createOutboundGuard();
    try {
      const refused = await soapCredential.test!(fields, { outbound: strict } as unknown as RuntimeServices, new AbortController().signal);
      expect(refused.message).toMatch(/127\.0\.0\.1.*FLOWCREW_OUTBOUND_ALLOW/);
    } finally {
      await strict.close();
    }
  });
});
