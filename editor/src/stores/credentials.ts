/** Stored credentials: names and field names only (values never leave the runtime). */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api } from '../api/client';
import type { CredentialInfo } from '../api/types';

export const useCredentialsStore = defineStore('credentials', () => {
  const list = ref<CredentialInfo[]>([]);
  const error = ref<string | null>(null);

  async function load(): Promise<void> {
    try {
      list.value = await api.credentials();
      error.value = null;
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  function ofType(type: string): CredentialInfo[] {
    return list.value.filter((c) => c.type === type);
  }

  async function create(name: string, type: string, fields: Record<string, unknown>): Promise<CredentialInfo> {
    const created = await api.createCredential({ name, type, fields });
    list.value = [...list.value, created];
    return created;
  }

  return { list, error, load, ofType, create };
});
