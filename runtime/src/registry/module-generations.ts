/**
 * ES modules cannot be unloaded: importing a file again returns the cached module. To load a pack's new code after
 * an upgrade without a restart, every load of an installed pack after its first imports a copy of the package made
 * for that load (a "generation") under `<node dir>/.flowcrew-generations/`: new paths, so new modules for every
 * file of the pack, while the SDK and the packages beside it resolve exactly as before (Node walks up from the copy
 * to the same node_modules). The first load imports the package where it is, so a pack the runtime also imports
 * directly (the core pack) stays one instance. Old generations stay in memory until the process ends (Node offers
 * no way to free a module); their copies are removed at the next start.
 */
import { cp, readdir, rm } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { importModule } from './typescript-modules.ts';

const GENERATIONS_DIR = '.flowcrew-generations';
const loads = new Map<string, number>();

/** Where copies of packs installed under a node_modules directory go: beside that node_modules. */
function generationsHome(pkgDir: string): string | undefined {
  const parts = pkgDir.split(path.sep);
  const at = parts.lastIndexOf('node_modules');
  return at > 0 ? path.join(parts.slice(0, at).join(path.sep) || path.sep, GENERATIONS_DIR) : undefined;
}

/**
 * An importer for one load of the pack in `pkgDir`: the package itself the first time, a fresh copy every later
 * time (workspace packs, which live outside a node_modules directory, are always imported where they are).
 */
export async function packImporter(pkgDir: string): Promise<(file: string) => Promise<unknown>> {
  const real = realpathSync(pkgDir);
  const count = loads.get(real) ?? 0;
  loads.set(real, count + 1);
  const home = generationsHome(path.resolve(pkgDir));
  let base = real;
  if (count > 0 && home) {
    base = path.join(home, `${path.basename(real)}-${process.pid}-${count}`);
    await rm(base, { recursive: true, force: true });
    await cp(real, base, { recursive: true });
  }
  return (file) => importModule(pathToFileURL(path.join(base, path.relative(real, realpathSync(file)))).href);
}

/** Remove the copies that processes no longer running left under `nodeDir` (the user node directory). */
export async function removeStaleGenerations(nodeDir: string): Promise<void> {
  const home = path.join(nodeDir, GENERATIONS_DIR);
  const entries = await readdir(home).catch(() => [] as string[]);
  for (const entry of entries) {
    const pid = Number(/-(\d+)-\d+$/.exec(entry)?.[1]);
    if (pid && (pid === process.pid || isRunning(pid))) continue; // another runtime on this directory may still import it
    await rm(path.join(home, entry), { recursive: true, force: true });
  }
}

/** Whether a process with this id exists (one of another user counts). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
