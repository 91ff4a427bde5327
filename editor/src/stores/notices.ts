/** Toasts: short confirmations disappear quickly, errors after a while or when dismissed. */
import { defineStore } from 'pinia';
import { ref } from 'vue';

export interface Notice {
  id: number;
  kind: 'info' | 'success' | 'error';
  text: string;
  detail?: string;
  /** A newer notice on the same topic replaces this one (a successful deploy clears the refusal before it). */
  topic?: string;
}

export const useNoticesStore = defineStore('notices', () => {
  const notices = ref<Notice[]>([]);
  let next = 1;

  function dismiss(id: number): void {
    notices.value = notices.value.filter((n) => n.id !== id);
  }

  function push(kind: Notice['kind'], text: string, detail?: string, topic?: string): number {
    const id = next++;
    const kept = topic ? notices.value.filter((n) => n.topic !== topic) : notices.value;
    notices.value = [...kept.slice(-2), { id, kind, text, detail, topic }];
    // Errors stay longer (they explain what to fix); the problems themselves stay marked on nodes and fields.
    setTimeout(() => dismiss(id), kind === 'error' ? 15_000 : 4000);
    return id;
  }

  return {
    notices,
    dismiss,
    info: (text: string, detail?: string, topic?: string) => push('info', text, detail, topic),
    success: (text: string, detail?: string, topic?: string) => push('success', text, detail, topic),
    error: (text: string, detail?: string, topic?: string) => push('error', text, detail, topic),
  };
});
