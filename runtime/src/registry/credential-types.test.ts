/** Credential types: collected from packs (all or nothing with their nodes), described without code, fields checked. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineCredentialType } from '@flowcrew/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCredential } from '../credential-test.ts';
import { NodeRegistry } from './registry.ts';

let dir: string;

async function pack(name: string, source: string): Promise<string> {
  const pkg = path.join(dir, name);
  await mkdir(pkg, { recursive: true });
  await writeFile(path.join(pkg, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', flowcrew: { nodes: ['./index.js'] } }));
  await writeFile(path.join(pkg, 'index.js'), source);
  return pkg;
}

const node = (type: string) => `{ type: '${type}', category: 'connector', label: 'x', inputs: 1, outputs: 1, help: 'x', props: {}, create() { return {}; } }`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-credtypes-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('credential types in the registry', () => {
  it('collects a pack\'s credential types and serves them as data: secret fields writeOnly, no code', async () => {
    const registry = new NodeRegistry();
    const info = await registry.loadPackage(
      await pack('acme-crm', `
        export const nodes = [${node('acme-lookup')}];
        export const credentialTypes = [{
          name: 'acme-api', label: 'Acme API', description: 'An Acme account',
          schema: { type: 'object', required: ['apiKey'], properties: { apiKey: { type: 'string' }, region: { enum: ['eu', 'us'], default: 'eu' }, pin: { type: 'string', writeOnly: true } } },
          secret: ['apiKey'],
          async test(fields) { return { ok: fields.apiKey === 'good', message: 'checked' }; },
        }];`),
      'user',
    );
    expect(info).toMatchObject({ status: 'loaded', types: ['acme-lookup'], credentialTypes: ['acme-api'] });
    const [described] = registry.describeCredentialTypes();
    expect(described).toEqual({
      name: 'acme-api',
      pack: 'acme-crm',
      label: 'Acme API',
      description: 'An Acme account',
      schema: {
        type: 'object',
        required: ['apiKey'],
        properties: { apiKey: { type: 'string', writeOnly: true }, region: { enum: ['eu', 'us'], default: 'eu' }, pin: { type: 'string', writeOnly: true } },
      },
      secretFields: ['apiKey', 'pin'],
      testable: true,
    });
    expect(JSON.stringify(registry.describeCredentialTypes())).not.toContain('async');
    expect(registry.checkCredentialFields('acme-api', { region: 'mars' })).toEqual([
      { pointer: '/fields/apiKey', message: 'is required' },
      { pointer: '/fields/region', message: 'must be one of ["eu","us"]' },
    ]);
    expect(registry.checkCredentialFields('acme-api', { apiKey: 'k' })).toEqual([]);
  });

  it('refuses a pack with a broken credential type as a whole: its nodes are not registered either', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['bad-name', `{ name: 'no spaces allowed', label: 'x', schema: { type: 'object' } }`, /"name" must be a name/],
      ['bad-test', `{ name: 'x1', label: 'x', schema: { type: 'object' }, test: 'not a function' }`, /"test" must be a function/],
      ['bad-secret', `{ name: 'x2', label: 'x', schema: { type: 'object', properties: { a: { type: 'string' } } }, secret: ['b'] }`, /secret field\(s\) b are not in the schema/],
      ['bad-schema', `{ name: 'x3', label: 'x', schema: { type: 'no-such-type' } }`, /"schema" is not a valid JSON Schema/],
    ];
    for (const [name, type, message] of cases) {
      const registry = new NodeRegistry();
      const info = await registry.loadPackage(await pack(name, `export const nodes = [${node(`${name}-node`)}]; export const credentialTypes = [${type}];`), 'user');
      expect(info?.status, name).toBe('error');
      expect(info?.error, name).toMatch(message);
      expect(registry.has(`${name}-node`), name).toBe(false);
      expect(registry.describeCredentialTypes(), name).toEqual([]);
    }
  });

  it('keeps a credential type to the pack that declared it first', async () => {
    const registry = new NodeRegistry();
    await registry.loadPackage(await pack('first', `export const nodes = []; export const credentialTypes = [{ name: 'shared', label: 'one', schema: { type: 'object' } }];`), 'user');
    const second = await registry.loadPackage(await pack('second', `export const nodes = []; export const credentialTypes = [{ name: 'shared', label: 'two', schema: { type: 'object' } }];`), 'user');
    expect(second?.error).toMatch(/credential type "shared" is already provided by pack "first"/);
    expect(registry.credentialType('shared')?.label).toBe('one');
  });
});

describe('running a credential type\'s test', () => {
  const registry = new NodeRegistry();
  registry.registerCredentialTypes([
    defineCredentialType<{ user: string; password: string }>({
      name: 'echoing',
      label: 'Echoing',
      schema: { type: 'object', required: ['user'], properties: { user: { type: 'string' }, password: { type: 'string', writeOnly: true } } },
      // A driver that puts what it was given in its error, as some do.
      async test(fields) {
        if (fields.password === 'right-password') return { ok: true, message: `hello ${fields.user}` };
        throw new Error(`login failed for ${fields.user}:${fields.password}`);
      },
    }),
    defineCredentialType({ name: 'hanging', label: 'Hanging', schema: { type: 'object' }, test: (_f, _s, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))) }),
    defineCredentialType({ name: 'untestable', label: 'No test', schema: { type: 'object' } }),
  ]);
  const stored = new Map([['c1', { type: 'echoing', fields: { user: 'ada', password: 'right-password' } }]]);
  const deps = { registry, services: {} as never, stored: async (id: string) => structuredClone(stored.get(id)), timeoutMs: 100 };

  it('answers ok or not, never with a secret in the message', async () => {
    expect(await testCredential(deps, { type: 'echoing', fields: { user: 'ada', password: 'right-password' } })).toMatchObject({ ok: true, message: 'hello ada', type: 'echoing' });
    const failed = await testCredential(deps, { type: 'echoing', fields: { user: 'ada', password: 'wrong-password-1' } });
    // The redactor knows the user:password form too (HTTP basic auth).
    expect(failed).toMatchObject({ ok: false, message: 'login failed for [redacted]' });
    expect(JSON.stringify(failed)).not.toContain('wrong-password-1');
  });

  it('tests a stored credential with some fields replaced, the others (secrets) from the vault', async () => {
    expect(await testCredential(deps, { id: 'c1' })).toMatchObject({ ok: true, message: 'hello ada' });
    expect(await testCredential(deps, { id: 'c1', fields: { user: 'bob' } })).toMatchObject({ ok: true, message: 'hello bob' });
    expect((await testCredential(deps, { id: 'c1', fields: { password: 'wrong-password-2' } })).ok).toBe(false);
    expect(stored.get('c1')!.fields.user).toBe('ada'); // nothing stored
  });

  it('gives up on a test that does not answer, and says so', async () => {
    expect(await testCredential(deps, { type: 'hanging', fields: {} })).toMatchObject({ ok: false, message: 'no answer within 0.1 s' });
  });

  it('refuses what cannot be tested: unknown or untestable types, fields that do not fit, an unknown id', async () => {
    await expect(testCredential(deps, { type: 'nope', fields: {} })).rejects.toMatchObject({ status: 422, message: 'no installed node pack declares the credential type "nope"' });
    await expect(testCredential(deps, { type: 'untestable', fields: {} })).rejects.toMatchObject({ status: 422, message: 'credential type "untestable" has no connection test' });
    await expect(testCredential(deps, { type: 'echoing', fields: {} })).rejects.toMatchObject({ status: 422, issues: [{ pointer: '/fields/user', message: 'is required' }] });
    await expect(testCredential(deps, { id: 'c9' })).rejects.toMatchObject({ status: 404 });
    await expect(testCredential(deps, { id: 'c1', type: 'hanging' })).rejects.toMatchObject({ status: 422, issues: [{ pointer: '/type', message: 'must be "echoing" (or left out)' }] });
  });
});
