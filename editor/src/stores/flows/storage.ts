/** The browser-side keeping of the editor: drafts, open tabs and the clipboard in localStorage. */
export const CLIPBOARD_KEY = 'flowcrew.clipboard';
export const DRAFT_PREFIX = 'flowcrew.draft.';
export const TABS_KEY = 'flowcrew.tabs';

/** A deep copy without Vue proxies. */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function readStorage<T>(key: string): T | undefined {
  try {
    const text = localStorage.getItem(key);
    return text ? (JSON.parse(text) as T) : undefined;
  } catch {
    return undefined;
  }
}

export function writeStorage(key: string, value: unknown): void {
  try {
    if (value === undefined) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage full or disabled: drafts are a convenience */
  }
}
