/**
 * Packs written in TypeScript (the pack kit's template, a workspace pack) load whether or not the runtime runs
 * through tsx: the runtime started from compiled JavaScript (`npm start`, see cli/compile.ts) registers tsx's module
 * hooks the first time Node refuses a `.ts` module, and only then, so a runtime whose packs are all JavaScript never
 * pays for tsx's loader thread.
 */
let typeScriptHooks: Promise<void> | undefined;

const isTypeScript = (url: string) => /\.[mc]?ts$/.test(new URL(url).pathname);

/** `import(url)`, with tsx's hooks registered first when Node cannot load a `.ts` module by itself. */
export async function importModule(url: string): Promise<unknown> {
  try {
    return await import(url);
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !isTypeScript(url)) throw error;
    typeScriptHooks ??= import('tsx/esm/api').then(({ register }) => {
      register();
    });
    await typeScriptHooks;
    // Node remembers the refused load of `url`: the module is imported under a URL of its own (once, as before).
    return import(`${url}${url.includes('?') ? '&' : '?'}typescript`);
  }
}
