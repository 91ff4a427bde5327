/**
 * Reading one node pack from disk: its manifest (package.json `flowcrew` field), the SDK API version it needs, and
 * its modules' exported definitions. Loading is done in a fresh module generation each time (see
 * module-generations.ts), so a pack upgraded on disk is imported as new code without a restart.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { SDK_API_VERSION, type CredentialTypeDefinition, type NodeDefinition } from '@flowcrew/sdk';
import { packImporter } from './module-generations.ts';

export interface PackManifest {
  name: string;
  version: string;
  /** Module paths relative to the package directory. */
  modules: string[];
  /** The SDK API version the pack was written against (package.json `flowcrew.sdkApi`; 1 when absent). */
  sdkApi: number;
  description?: string;
  license?: string;
}

export interface LoadedPackCode {
  definitions: NodeDefinition[];
  credentialTypes: CredentialTypeDefinition[];
}

/** A pack that cannot be used here; `code` tells an API client which kind of problem it is. */
export class PackLoadError extends Error {
  constructor(
    message: string,
    readonly code: 'manifest' | 'sdk-too-new' | 'module' | 'definition' | 'clash',
  ) {
    super(message);
    this.name = 'PackLoadError';
  }
}

/**
 * The manifest of the package in `pkgDir`, or undefined when it is not a Flowcrew pack (no package.json or no
 * `flowcrew` field). Throws PackLoadError when it is one but its manifest is wrong.
 */
export async function readPackManifest(pkgDir: string): Promise<PackManifest | undefined> {
  let json: { name?: unknown; version?: unknown; description?: unknown; license?: unknown; flowcrew?: { nodes?: unknown; sdkApi?: unknown } };
  try {
    json = JSON.parse(await readFile(path.join(pkgDir, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (!json || typeof json !== 'object' || !json.flowcrew) return undefined;
  const name = typeof json.name === 'string' ? json.name : path.basename(pkgDir);
  const version = typeof json.version === 'string' ? json.version : '0.0.0';
  const modules = json.flowcrew.nodes;
  const sdkApi = json.flowcrew.sdkApi ?? 1;
  const manifest: PackManifest = { name, version, modules: [], sdkApi: typeof sdkApi === 'number' ? sdkApi : NaN };
  if (typeof json.description === 'string') manifest.description = json.description;
  if (typeof json.license === 'string') manifest.license = json.license;
  if (!Array.isArray(modules) || modules.length === 0 || !modules.every((m) => typeof m === 'string')) {
    throw new PackLoadError('package.json "flowcrew.nodes" must be a non-empty array of module paths', 'manifest');
  }
  manifest.modules = modules as string[];
  return manifest;
}

/** Refuses a pack written for a newer node contract than this runtime's, naming both versions. */
export function checkSdkApi(manifest: PackManifest): void {
  if (!Number.isInteger(manifest.sdkApi) || manifest.sdkApi < 1) {
    throw new PackLoadError('package.json "flowcrew.sdkApi" must be a positive integer (the SDK API version the pack was written for)', 'manifest');
  }
  if (manifest.sdkApi > SDK_API_VERSION) {
    throw new PackLoadError(
      `needs a newer SDK: it was written for SDK API ${manifest.sdkApi}, this runtime provides SDK API ${SDK_API_VERSION}; upgrade Flowcrew or install an older version of the pack`,
      'sdk-too-new',
    );
  }
}

/** Import the pack's modules (fresh code) and collect their node and credential type definitions. */
export async function importPackCode(pkgDir: string, manifest: PackManifest): Promise<LoadedPackCode> {
  const definitions: NodeDefinition[] = [];
  const credentialTypes: CredentialTypeDefinition[] = [];
  const importModule = await packImporter(pkgDir);
  for (const modulePath of manifest.modules) {
    let loaded: { nodes?: unknown; default?: unknown; credentialTypes?: unknown };
    try {
      loaded = (await importModule(path.resolve(pkgDir, modulePath))) as typeof loaded;
    } catch (error) {
      throw new PackLoadError(`module "${modulePath}" could not be loaded: ${(error as Error)?.message ?? String(error)}`, 'module');
    }
    const list = loaded.nodes ?? loaded.default;
    if (!Array.isArray(list)) throw new PackLoadError(`module "${modulePath}" must export "nodes" (or a default export) as an array of node definitions`, 'definition');
    definitions.push(...(list as NodeDefinition[]));
    if (loaded.credentialTypes !== undefined) {
      if (!Array.isArray(loaded.credentialTypes)) throw new PackLoadError(`module "${modulePath}": "credentialTypes" must be an array of credential type definitions`, 'definition');
      credentialTypes.push(...(loaded.credentialTypes as CredentialTypeDefinition[]));
    }
  }
  return { definitions, credentialTypes };
}

/** Package directories under `dir` (scoped packages `@scope/name` included), in name order. */
export async function listPackageDirs(dir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return [];
  }
  const dirs: string[] = [];
  for (const entry of entries.sort()) {
    if (entry.startsWith('.')) continue;
    const full = path.join(dir, entry);
    if (!(await stat(full).catch(() => null))?.isDirectory()) continue;
    if (entry.startsWith('@')) dirs.push(...(await listPackageDirs(full)));
    else dirs.push(full);
  }
  return dirs;
}
