import { defineStore } from 'pinia';
import { ref } from 'vue';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  text: string;
}

const INFO_SECONDS = 6;

/** Messages for the inspector: errors stay until dismissed, information fades. */
export const useNoticesStore = defineStore('notices', () => {
  const items = ref<Notice[]>([]);
  let nextId = 1;

  function push(kind: Notice['kind'], text: string): void {
    const id = nextId++;
    items.value = [...items.value.filter((n) => n.text !== text), { id, kind, text }].slice(-5);
    if (kind === 'info') setTimeout(() => dismiss(id), INFO_SECONDS * 1000);
  }

  function dismiss(id: number): void {
    items.value = items.value.filter((n) => n.id !== id);
  }

  return { items, error: (text: string) => push('error', text), info: (text: string) => push('info', text), dismiss };
});

/** The message of anything thrown, without a redundant "Error: " prefix. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
