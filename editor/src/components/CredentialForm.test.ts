import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { JsonSchema } from '../api/types';
import { useCredentialsStore } from '../stores/credentials';
import { fakeApi } from '../test/fake-api';
import CredentialForm from './CredentialForm.vue';

/** The shape of the AI pack's 'ai-model' credential: one variant per provider, told apart by `provider`. */
const aiModel: JsonSchema = {
  type: 'object',
  required: ['provider'],
  oneOf: [
    {
      title: 'OpenAI-compatible',
      properties: { provider: { const: 'openai-compatible' }, baseUrl: { type: 'string', default: 'https://api.openai.com/v1' }, apiKey: { type: 'string', writeOnly: true }, model: { type: 'string', minLength: 1 } },
      required: ['provider', 'baseUrl', 'model'],
    },
    { title: 'Anthropic', properties: { provider: { const: 'anthropic' }, apiKey: { type: 'string', writeOnly: true }, model: { type: 'string' }, version: { type: 'string' } }, required: ['provider', 'apiKey', 'model'] },
  ],
};
const postgres = {
  name: 'postgres',
  pack: '@flowcrew/nodes-db',
  label: 'PostgreSQL',
  schema: { type: 'object', required: ['host'], properties: { host: { type: 'string', title: 'Host' }, port: { type: 'integer', default: 5432 }, password: { type: 'string', writeOnly: true } } },
  secretFields: ['password'],
  testable: true,
};

let api: ReturnType<typeof fakeApi>;
beforeEach(async () => {
  setActivePinia(createPinia());
  vi.unstubAllGlobals();
  api = fakeApi({
    'GET /credentials': { body: [{ id: 'pg1', name: 'Orders DB', type: 'postgres', fields: ['host', 'port', 'password'], projectId: 'default', createdAt: 1, updatedAt: 1 }] },
    'GET /credential-types': { body: [postgres] },
    'POST /credentials': ({ body }) => ({ status: 201, body: { id: 'new1', ...(body as object), fields: Object.keys((body as { fields: object }).fields), projectId: 'default', createdAt: 2, updatedAt: 2 } }),
    'PATCH /credentials/pg1': ({ body }) => ({ body: { id: 'pg1', name: 'Orders DB', type: 'postgres', fields: ['host', 'port', 'password'], projectId: 'default', createdAt: 1, updatedAt: 3, patch: body } }),
    'POST /credentials/test': ({ body }) => ({ body: { ok: false, type: 'postgres', durationMs: 4, message: `connect ECONNREFUSED ${(body as { fields: { host: string } }).fields.host}:9` } }),
    'POST /credentials/pg1/test': { body: { ok: true, type: 'postgres', durationMs: 7, message: 'connected to PostgreSQL 15.4 as app' } },
  });
  await useCredentialsStore().load();
});

const input = (wrapper: ReturnType<typeof mount>, pointer: string) => wrapper.find(`[data-test="field-${pointer}"]`);

describe('CredentialForm', () => {
  it('renders an AI model credential from its schema: a provider picker, then that provider’s fields, the key as a secret', async () => {
    const wrapper = mount(CredentialForm, { props: { type: 'ai-model', fallbackSchema: aiModel } });
    const picker = wrapper.find('select[data-test="field-"]');
    expect(picker.findAll('option').map((o) => o.text())).toEqual(['—', 'OpenAI-compatible', 'Anthropic']);
    expect((picker.element as HTMLSelectElement).value).toBe('0'); // a new credential starts with the first provider
    expect((input(wrapper, '/baseUrl').element as HTMLInputElement).value).toBe('https://api.openai.com/v1');
    expect(input(wrapper, '/apiKey').attributes('type')).toBe('password');
    expect(wrapper.text()).toContain('Model');
    expect(wrapper.text()).not.toContain('This node has no properties');
    await picker.setValue('1');
    expect(input(wrapper, '/baseUrl').exists()).toBe(false);
    expect(input(wrapper, '/version').exists()).toBe(true);
    await input(wrapper, '/apiKey').setValue('sk-ant-secret');
    await input(wrapper, '/model').setValue('claude-3-5-haiku');
    await wrapper.find('[data-test="credential-name"]').setValue('Claude');
    expect(wrapper.find('[data-test="credential-test"]').exists()).toBe(false); // the type declares no test
    await wrapper.find('[data-test="credential-save"]').trigger('click');
    await flushPromises();
    expect(api.called('POST /credentials')[0]!.body).toEqual({ name: 'Claude', type: 'ai-model', fields: { provider: 'anthropic', apiKey: 'sk-ant-secret', model: 'claude-3-5-haiku' } });
    expect(wrapper.emitted('saved')![0]![0]).toMatchObject({ id: 'new1', name: 'Claude' });
  });

  it('tests the connection with the typed fields before storing anything', async () => {
    const wrapper = mount(CredentialForm, { props: { type: 'postgres' } });
    expect(wrapper.text()).toContain('PostgreSQL');
    await input(wrapper, '/host').setValue('127.0.0.1');
    await wrapper.find('[data-test="credential-test"]').trigger('click');
    await flushPromises();
    expect(api.called('POST /credentials/test')[0]!.body).toEqual({ type: 'postgres', fields: { host: '127.0.0.1', port: 5432 } });
    expect(wrapper.find('[data-test="credential-test-result"]').text()).toContain('Connection failed: connect ECONNREFUSED 127.0.0.1:9');
    expect(api.called('POST /credentials')).toHaveLength(0);
  });

  it('edits a stored credential without reading it back: empty fields keep their value, a typed secret replaces it', async () => {
    const existing = useCredentialsStore().list[0]!;
    const wrapper = mount(CredentialForm, { props: { type: 'postgres', existing } });
    const password = input(wrapper, '/password');
    expect(password.attributes('type')).toBe('password');
    expect((password.element as HTMLInputElement).value).toBe('');
    expect(password.attributes('placeholder')).toContain('stored (type to replace)');
    expect((input(wrapper, '/host').element as HTMLInputElement).value).toBe('');
    await wrapper.find('[data-test="credential-test"]').trigger('click');
    await flushPromises();
    expect(api.called('POST /credentials/pg1/test')[0]!.body).toEqual({ fields: {} });
    expect(wrapper.find('[data-test="credential-test-result"]').text()).toContain('Connection works: connected to PostgreSQL 15.4');
    await password.setValue('new secret');
    await wrapper.find('[data-test="credential-save"]').trigger('click');
    await flushPromises();
    expect(api.called('PATCH /credentials/pg1')[0]!.body).toEqual({ fields: { password: 'new secret' } });
  });

  it('edits a stored AI model credential: picking the provider sets only the provider, no default overwrites a stored value', async () => {
    const existing = { id: 'ai1', name: 'Claude', type: 'ai-model', fields: ['provider', 'apiKey', 'model', 'version'], projectId: 'default', createdAt: 1, updatedAt: 1 };
    const wrapper = mount(CredentialForm, { props: { type: 'ai-model', fallbackSchema: aiModel, existing } });
    await wrapper.find('select[data-test="field-"]').setValue('1');
    expect(input(wrapper, '/apiKey').attributes('placeholder')).toContain('stored');
    expect((input(wrapper, '/version').element as HTMLInputElement).value).toBe('');
    await input(wrapper, '/model').setValue('claude-3-7-sonnet');
    await wrapper.find('[data-test="credential-save"]').trigger('click');
    await flushPromises();
    expect(api.calls.filter((c) => c.method === 'PATCH')[0]).toMatchObject({ path: '/credentials/ai1', body: { fields: { provider: 'anthropic', model: 'claude-3-7-sonnet' } } });
  });
});
