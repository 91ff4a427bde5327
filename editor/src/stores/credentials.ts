/**
 * Stored credentials (names and field names only: values never leave the runtime) and the credential types the
 * packs declare (the schema each credential form is built from, which fields are secret, whether it can be tested).
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api } from '../api/client';
import type { CredentialInfo, CredentialTestResult, CredentialTypeInfo, JsonSchema } from '../api/types';

export const useCredentialsStore = defineStore('credentials', () => {
  const list = ref<CredentialInfo[]>([]);
  const types = ref<CredentialTypeInfo[]>([]);
  const error = ref<string | null>(null);

  async function load(): Promise<void> {
    try {
      const [credentials, declared] = await Promise.all([api.credentials(), api.credentialTypes().catch(() => [] as CredentialTypeInfo[])]);
      list.value = credentials;
      types.value = declared;
      error.value = null;
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  function ofType(type: string): CredentialInfo[] {
    return list.value.filter((c) => c.type === type);
  }

  /**
   * The form of a credential type: the pack's declared type when there is one, else the schema the node type
   * gives with its `credentials` (packs that declare no credential type still describe the fields there).
   */
  function typeInfo(name: string, fallbackSchema?: JsonSchema): CredentialTypeInfo {
    const declared = types.value.find((t) => t.name === name);
    if (declared) return declared;
    const schema = fallbackSchema ?? { type: 'object', properties: {} };
    return { name, pack: '', label: name, schema, secretFields: secretFieldsOf(schema), testable: false };
  }

  async function create(name: string, type: string, fields: Record<string, unknown>): Promise<CredentialInfo> {
    const created = await api.createCredential({ name, type, fields });
    list.value = [...list.value, created];
    return created;
  }

  async function update(id: string, patch: { name?: string; fields?: Record<string, unknown> }): Promise<CredentialInfo> {
    const updated = await api.updateCredential(id, patch);
    list.value = list.value.map((c) => (c.id === id ? updated : c));
    return updated;
  }

  function test(target: { id?: string; type: string }, fields: Record<string, unknown>): Promise<CredentialTestResult> {
    return target.id ? api.testStoredCredential(target.id, fields) : api.testCredential(target.type, fields);
  }

  return { list, types, error, load, ofType, typeInfo, create, update, test };
});

/** Fields marked writeOnly anywhere a form shows them (top level and in each oneOf/anyOf variant). */
export function secretFieldsOf(schema: JsonSchema): string[] {
  const names = new Set<string>();
  const visit = (s: JsonSchema) => {
    for (const [key, sub] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>)) if (sub?.writeOnly === true) names.add(key);
    for (const variant of [...((s.oneOf as JsonSchema[]) ?? []), ...((s.anyOf as JsonSchema[]) ?? [])]) visit(variant);
  };
  visit(schema);
  return [...names];
}
