/**
 * Project switching: the projects the signed-in user may see, and the one the editor works in. The flow list shows
 * the current project's flows; new flows are created there. Kept per browser (localStorage).
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { api } from '../api/client';
import type { ProjectRole, ProjectView } from '../api/types';

const CURRENT_KEY = 'flowcrew.project';

export type ProjectEntry = ProjectView & { role?: ProjectRole };

export const useProjectsStore = defineStore('projects', () => {
  const list = ref<ProjectEntry[]>([]);
  /** null = every project (the flows of all projects the user may read). */
  const current = ref<string | null>(readCurrent());
  const error = ref<string | null>(null);

  function readCurrent(): string | null {
    try {
      return localStorage.getItem(CURRENT_KEY);
    } catch {
      return null;
    }
  }

  async function load(): Promise<void> {
    try {
      list.value = await api.listProjects();
      error.value = null;
      // A remembered project that is gone (or no longer visible) falls back to all.
      if (current.value && !list.value.some((p) => p.id === current.value)) choose(null);
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  function choose(id: string | null): void {
    current.value = id;
    try {
      if (id) localStorage.setItem(CURRENT_KEY, id);
      else localStorage.removeItem(CURRENT_KEY);
    } catch {
      /* storage disabled: the choice lasts for this page */
    }
  }

  /** Whether a flow of `projectId` is shown under the current choice. */
  function shows(projectId: string | undefined): boolean {
    return current.value === null || (projectId ?? 'default') === current.value;
  }

  return { list, current, error, load, choose, shows };
});
