/**
 * Copy, cut and paste on the canvas (Canvas.vue). Ctrl+C / X / V arrive first as litegraph shortcuts, then the
 * browser fires its clipboard event: the shortcut does the work and remembers it, so the event only carries the text
 * to or from the system clipboard. Pasted text that is not copied nodes (a whole flow, a Node-RED export) goes to
 * the import dialog.
 */
import type { Ref } from 'vue';
import { useFlowsStore } from '../stores/flows';
import { useNoticesStore } from '../stores/notices';

export function useCanvasClipboard(canvas: Ref<HTMLCanvasElement | null>, importText: (text: string) => void) {
  const flows = useFlowsStore();
  const notices = useNoticesStore();
  /** What the last Ctrl+C / X / V did, for the clipboard event the browser fires right after the key. */
  let keyClipboard: { action: 'copy' | 'cut' | 'paste'; text?: string } | null = null;

  /** Copy to the system clipboard where allowed; the store keeps its own copy for menu pastes either way. */
  async function writeClipboard(text: string): Promise<void> {
    try {
      await navigator.clipboard?.writeText(text);
    } catch {
      /* permission denied: the in-browser copy still works */
    }
  }

  /** The context menu's Copy (and Duplicate). */
  function menuCopy(): void {
    const text = flows.copySelection();
    if (text) void writeClipboard(text);
  }

  /** The key shortcut, before the browser's clipboard event. */
  function onShortcut(action: 'copy' | 'cut' | 'paste'): void {
    if (action !== 'paste') {
      const text = action === 'cut' ? flows.cutSelection() : flows.copySelection();
      keyClipboard = text ? { action, text } : null;
      setTimeout(() => (keyClipboard = null), 0);
      return;
    }
    // The browser's paste event (just after this key) carries the system clipboard; without one, paste the last copy
    // made in this browser.
    keyClipboard = { action: 'paste' };
    setTimeout(() => {
      if (keyClipboard?.action !== 'paste') return;
      keyClipboard = null;
      flows.paste();
    }, 0);
  }

  function onClipboard(event: ClipboardEvent): void {
    if (document.activeElement !== canvas.value) return;
    if (event.type === 'paste') {
      keyClipboard = null;
      const text = event.clipboardData?.getData('text/plain') ?? '';
      event.preventDefault();
      if (text && !flows.paste(text)) {
        // Not copied nodes: maybe a whole flow or a Node-RED export. Offer the import dialog with it.
        if (/^\s*[[{]/.test(text)) importText(text);
        else notices.info('Nothing to paste', 'The clipboard holds neither nodes nor flow JSON.');
      } else if (!text) flows.paste();
      return;
    }
    // From the keyboard the selection was already copied (or cut); from the browser's menu, do it now.
    const text = keyClipboard?.text ?? (event.type === 'cut' ? flows.cutSelection() : flows.copySelection());
    keyClipboard = null;
    if (!text) return;
    event.preventDefault();
    event.clipboardData?.setData('text/plain', text);
  }

  const events = ['copy', 'cut', 'paste'] as const;
  return {
    menuCopy,
    onShortcut,
    attach: () => events.forEach((type) => document.addEventListener(type, onClipboard)),
    detach: () => events.forEach((type) => document.removeEventListener(type, onClipboard)),
  };
}
