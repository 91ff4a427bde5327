/** Toasts: short confirmations disappear quickly, errors after a while or when dismissed. */
import { defineStore } from 'pinia';
import { ref } from 'vue';

export interface Notice {
  id: number;
  kind: 'info' | 'success' | 'error';
  text: string;
  detail?: string;
}

export const useNoticesStore = defineStore('notices', () => {
  const notices = ref<Notice[]>([]);
  let next = 1;

  function dismiss(id: number): void {
    notices.value = notices.value.filter((n) => n.id !== id);
  }

  function push(kind: Notice['kind'], text: string, detail?: string): number {
    const id = next++;
    notices.value = [...notices.value.slice(-2), { id, kind, text, detail }];
    // Errors stay longer (they explain what to fix); the problems themselves stay marked on nodes and fields.
    setTimeout(() => dismiss(id), kind === 'error' ? 15_000 : 4000);
    return id;
  }

  return {
    notices,
    dismiss,
    info: (text: string, detail?: string) => push('info', text, detail),
    success: (text: string, detail?: string) => push('success', text, detail),
    error: (text: string, detail?: string) => push('error', text, detail),
  };
});
