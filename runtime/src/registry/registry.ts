/**
 * The node registry: finds node packs, loads them, checks their definitions, and isolates a broken pack.
 * Loading is separate from running (as Node-RED's registry is from its runtime): the executor only asks the
 * registry for definitions and compiled props validators.
 *
 * A pack is an npm package whose package.json has `"flowcrew": { "nodes": ["./path/to/module.js", ...], "sdkApi": 1 }`;
 * each module exports `nodes` (or a default export) as an array of node definitions.
 *
 * The registry changes while running: packs are loaded, unloaded, reloaded (upgraded) and disabled without a
 * restart, and every change is announced as a `change` event (the live channel tells editors). A pack that fails to
 * load is quarantined: listed with its error, none of its types registered, the others unaffected.
 */
import { EventEmitter } from 'node:events';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { roleProblems, type CredentialTypeDefinition, type NodeDefinition, type NodeIssue, type NodeRole } from '@flowcrew/sdk';
import { ajvIssues, type NodeTypeCatalog } from '../flow/validate.ts';
import { createPropsValidator, describeCredentialType, prepareCredentialTypes, type CredentialTypeDescription, type RegisteredCredentialType } from './credential-type-checks.ts';
import { checkSdkApi, importPackCode, listPackageDirs, PackLoadError, readPackManifest, type LoadedPackCode, type PackManifest } from './pack-loader.ts';

import { removeStaleGenerations } from './module-generations.ts';

export { PackLoadError } from './pack-loader.ts';
export { EDITOR_FORMATS, type CredentialTypeDescription } from './credential-type-checks.ts';

export interface PackInfo {
  name: string;
  version: string;
  /** Directory of the package. */
  path: string;
  source: 'workspace' | 'user' | 'builtin';
  /** 'error': quarantined (failed to load; `error` says why). 'disabled': switched off by an admin, types not registered. */
  status: 'loaded' | 'error' | 'disabled';
  error?: string;
  /** What kind of problem `error` is (sdk-too-new, clash, module, definition, manifest). */
  errorCode?: PackLoadError['code'];
  /** The SDK API version the pack was written for. */
  sdkApi?: number;
  description?: string;
  license?: string;
  types: string[];
  /** Credential types the pack declares. */
  credentialTypes?: string[];
}

interface RegisteredType {
  definition: NodeDefinition;
  pack: string;
  validateProps: ValidateFunction;
}

interface Prepared {
  definitions: RegisteredType[];
  credentialTypes: RegisteredCredentialType[];
}

/** The parts of a definition that are data, for the API and editor. */
export interface NodeTypeDescription {
  type: string;
  pack: string;
  category: string;
  label: string;
  icon?: string;
  color?: string;
  inputs: number;
  outputs: NodeDefinition['outputs'];
  outputLabels?: string[];
  props: unknown;
  credentials?: { type: string; schema: unknown; required?: boolean };
  help: string;
  allowsCycles: boolean;
  usableAsTool: boolean;
  role?: NodeRole;
}

/** What changed in the registry: the editor refreshes its palette on it, the palette manager reports it. */
export interface RegistryChange {
  action: 'loaded' | 'unloaded' | 'reloaded' | 'disabled' | 'enabled' | 'quarantined';
  pack: string;
  /** Types that appeared and disappeared with this change. */
  added: string[];
  removed: string[];
}

export class NodeRegistry extends EventEmitter<{ change: [RegistryChange] }> implements NodeTypeCatalog {
  private readonly types = new Map<string, RegisteredType>();
  private readonly credentialTypes = new Map<string, RegisteredCredentialType>();
  readonly packs: PackInfo[] = [];
  private readonly ajv = createPropsValidator();
  /** Packs an admin disabled: found on disk but not loaded; kept across restarts in the state file (useStateFile). */
  readonly disabled = new Set<string>();
  private stateFile: string | undefined;

  /** Keep the disabled packs in `file` (JSON), read now: call before loading packs. */
  async useStateFile(file: string): Promise<void> {
    this.stateFile = file;
    const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '{}';
      throw error;
    });
    let state: { disabled?: unknown };
    try {
      state = JSON.parse(text);
    } catch (error) {
      throw new Error(`${file} is not valid JSON (${(error as Error).message}): fix or delete it`);
    }
    for (const name of Array.isArray(state.disabled) ? state.disabled : []) if (typeof name === 'string') this.disabled.add(name);
  }

  /** Written to a temporary file and renamed over the old one: a crash leaves the old state or the new, never half. */
  private async saveState(): Promise<void> {
    if (!this.stateFile) return;
    await mkdir(path.dirname(this.stateFile), { recursive: true });
    const temporary = `${this.stateFile}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ disabled: [...this.disabled].sort() }, null, 2)}\n`);
    await rename(temporary, this.stateFile);
  }

  /** Load every package under `dir` (e.g. the workspace `nodes/`) that declares a `flowcrew` field. */
  async loadPackagesIn(dir: string, source: PackInfo['source']): Promise<void> {
    for (const pkgDir of await listPackageDirs(dir)) await this.loadPackage(pkgDir, source);
  }

  /** Load the user node directory: npm packages installed under `<dir>/node_modules`. */
  async loadUserDirectory(dir: string): Promise<void> {
    await removeStaleGenerations(dir);
    await this.loadPackagesIn(path.join(dir, 'node_modules'), 'user');
  }

  /**
   * Load one package directory. A failure quarantines the pack (recorded with its error, never thrown); a pack whose
   * name is already listed is skipped (a workspace pack wins over a copy installed elsewhere).
   */
  async loadPackage(pkgDir: string, source: PackInfo['source']): Promise<PackInfo | undefined> {
    let manifest: PackManifest | undefined;
    try {
      manifest = await readPackManifest(pkgDir);
    } catch (error) {
      const name = path.basename(pkgDir);
      if (this.pack(name)) return undefined;
      const info: PackInfo = { name, version: '0.0.0', path: pkgDir, source, status: 'error', types: [] };
      this.packs.push(info);
      this.quarantine(info, error);
      return info;
    }
    if (!manifest || this.pack(manifest.name)) return undefined;
    const info = packInfo(manifest, pkgDir, source);
    this.packs.push(info);
    if (this.disabled.has(info.name)) {
      info.status = 'disabled';
      this.emit('change', { action: 'disabled', pack: info.name, added: [], removed: [] });
      return info;
    }
    try {
      this.install(info, await this.loadCode(pkgDir, manifest));
      this.emit('change', { action: 'loaded', pack: info.name, added: [...info.types], removed: [] });
    } catch (error) {
      this.quarantine(info, error);
    }
    return info;
  }

  /**
   * Load the pack in `pkgDir` again (its files changed: an upgrade) and swap its types in one step. When the new code
   * fails to load, the pack keeps its old types and the error is thrown: nothing is half-replaced. A pack that was
   * quarantined or is new is loaded as by loadPackage.
   */
  async reloadPackage(pkgDir: string, source: PackInfo['source']): Promise<PackInfo> {
    const manifest = await readPackManifest(pkgDir);
    if (!manifest) throw new PackLoadError(`${pkgDir} is not a node pack (no package.json with a "flowcrew" field)`, 'manifest');
    const current = this.pack(manifest.name);
    if (!current || current.status !== 'loaded') {
      if (current) this.forget(current);
      const info = (await this.loadPackage(pkgDir, source))!;
      if (info.status === 'error') throw new PackLoadError(info.error!, info.errorCode ?? 'module');
      return info;
    }
    const code = await this.loadCode(pkgDir, manifest, current.name);
    const before = [...current.types];
    this.remove(current);
    const info = packInfo(manifest, pkgDir, source);
    this.packs[this.packs.indexOf(current)] = info;
    this.install(info, code);
    this.emit('change', { action: 'reloaded', pack: info.name, added: info.types.filter((t) => !before.includes(t)), removed: before.filter((t) => !info.types.includes(t)) });
    return info;
  }

  /** Unregister a pack's types and forget it (its files were removed). Returns the types it had, or undefined when unknown. */
  unloadPackage(name: string): string[] | undefined {
    const info = this.pack(name);
    if (!info) return undefined;
    const removed = [...info.types];
    this.forget(info);
    this.emit('change', { action: 'unloaded', pack: name, added: [], removed });
    return removed;
  }

  /** Switch a pack off: its types are unregistered, it stays listed as 'disabled'. Returns the types it had. */
  async disablePackage(name: string): Promise<string[]> {
    const info = this.pack(name);
    if (!info) throw new PackLoadError(`no node pack "${name}" is installed`, 'manifest');
    const removed = [...info.types];
    this.remove(info);
    info.status = 'disabled';
    delete info.error;
    delete info.errorCode;
    this.disabled.add(name);
    await this.saveState();
    this.emit('change', { action: 'disabled', pack: name, added: [], removed });
    return removed;
  }

  /** Switch a disabled pack on again (loaded from its directory; quarantined if it fails). */
  async enablePackage(name: string): Promise<PackInfo> {
    const info = this.pack(name);
    if (!info) throw new PackLoadError(`no node pack "${name}" is installed`, 'manifest');
    this.disabled.delete(name);
    await this.saveState();
    if (info.status === 'loaded') return info;
    this.forget(info);
    const loaded = (await this.loadPackage(info.path, info.source))!;
    if (loaded.status === 'loaded') this.emit('change', { action: 'enabled', pack: name, added: [...loaded.types], removed: [] });
    return loaded;
  }

  pack(name: string): PackInfo | undefined {
    return this.packs.find((p) => p.name === name);
  }

  /** The pack that provides a node type. */
  packOf(type: string): string | undefined {
    return this.types.get(type)?.pack;
  }

  /** Read, check the SDK API of and import a pack, then check all of it; registers nothing. */
  private async loadCode(pkgDir: string, manifest: PackManifest, replacing?: string): Promise<Prepared> {
    checkSdkApi(manifest);
    const code: LoadedPackCode = await importPackCode(pkgDir, manifest);
    // Check the whole pack before registering any of it, so a pack is either fully in or fully out.
    const definitions = code.definitions.map((definition, i) => this.prepare(definition, manifest.name, i, replacing));
    const credentialTypes = prepareCredentialTypes(this.ajv, this.credentialTypes, code.credentialTypes, manifest.name, replacing);
    return { definitions, credentialTypes };
  }

  private install(info: PackInfo, prepared: Prepared): void {
    for (const entry of prepared.definitions) {
      this.types.set(entry.definition.type, entry);
      info.types.push(entry.definition.type);
    }
    for (const entry of prepared.credentialTypes) this.credentialTypes.set(entry.definition.name, entry);
    if (prepared.credentialTypes.length > 0) info.credentialTypes = prepared.credentialTypes.map((e) => e.definition.name);
    info.status = 'loaded';
  }

  /** Unregister a pack's types and credential types (it stays listed). */
  private remove(info: PackInfo): void {
    for (const type of info.types) if (this.types.get(type)?.pack === info.name) this.types.delete(type);
    for (const name of info.credentialTypes ?? []) if (this.credentialTypes.get(name)?.pack === info.name) this.credentialTypes.delete(name);
    info.types = [];
    delete info.credentialTypes;
  }

  private forget(info: PackInfo): void {
    this.remove(info);
    this.packs.splice(this.packs.indexOf(info), 1);
  }

  private quarantine(info: PackInfo, error: unknown): void {
    info.status = 'error';
    info.error = error instanceof Error ? error.message : String(error);
    info.errorCode = error instanceof PackLoadError ? error.code : 'definition';
    this.emit('change', { action: 'quarantined', pack: info.name, added: [], removed: [] });
  }

  /** Register definitions directly (tests, embedding). Throws on an invalid definition. */
  register(definitions: NodeDefinition[], packName = 'inline'): void {
    for (const [i, definition] of definitions.entries()) {
      const entry = this.prepare(definition, packName, i);
      this.types.set(definition.type, entry);
    }
  }

  /** Register credential types directly (tests, embedding). Throws on an invalid one. */
  registerCredentialTypes(definitions: CredentialTypeDefinition<any>[], packName = 'inline'): void {
    for (const entry of prepareCredentialTypes(this.ajv, this.credentialTypes, definitions, packName)) this.credentialTypes.set(entry.definition.name, entry);
  }

  credentialType(name: string): CredentialTypeDefinition | undefined {
    return this.credentialTypes.get(name)?.definition;
  }

  /** Problems of credential fields against their type's schema, with JSON pointers under /fields (none for an undeclared type). */
  checkCredentialFields(type: string, fields: Record<string, unknown>): Array<{ pointer: string; message: string }> {
    const entry = this.credentialTypes.get(type);
    if (!entry) return [];
    // Validated on a copy: defaults are filled by the props validator's options, and the caller's fields stay as given.
    return entry.validateFields(structuredClone(fields)) ? [] : ajvIssues(entry.validateFields.errors, '/fields');
  }

  describeCredentialTypes(): CredentialTypeDescription[] {
    return [...this.credentialTypes.values()].map(describeCredentialType);
  }

  private prepare(definition: NodeDefinition, pack: string, index: number, replacing?: string): RegisteredType {
    const where = `node definition #${index}${definition && typeof definition.type === 'string' ? ` ("${definition.type}")` : ''}`;
    if (!definition || typeof definition !== 'object') throw new Error(`${where} is not an object`);
    if (typeof definition.type !== 'string' || !/^[a-z0-9][a-z0-9_.:-]*$/i.test(definition.type)) throw new Error(`${where}: "type" must be a name of letters, digits, - _ . :`);
    if (typeof definition.create !== 'function') throw new Error(`${where}: "create" must be a function`);
    if (definition.inputs !== 0 && definition.inputs !== 1) throw new Error(`${where}: "inputs" must be 0 or 1`);
    const outputs = definition.outputs;
    if (!(typeof outputs === 'number' && outputs >= 0) && !(outputs && typeof outputs === 'object' && typeof outputs.prop === 'string')) {
      throw new Error(`${where}: "outputs" must be a number or { prop }`);
    }
    if (typeof definition.label !== 'string' || typeof definition.help !== 'string') throw new Error(`${where}: "label" and "help" are required strings`);
    const problems = roleProblems(definition.role, definition.props);
    if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
    const existing = this.types.get(definition.type);
    if (existing && existing.pack !== pack && existing.pack !== replacing) throw new PackLoadError(`${where}: type "${definition.type}" is already provided by pack "${existing.pack}"`, 'clash');
    let validateProps: ValidateFunction;
    try {
      validateProps = this.ajv.compile({ type: 'object', ...(definition.props ?? {}) });
    } catch (error) {
      throw new Error(`${where}: "props" is not a valid JSON Schema: ${(error as Error).message}`);
    }
    return { definition, pack, validateProps };
  }

  get(type: string): NodeDefinition | undefined {
    return this.types.get(type)?.definition;
  }

  has(type: string): boolean {
    return this.types.has(type);
  }

  checkProps(type: string, props: Record<string, unknown>): Array<{ pointer: string; message: string }> {
    const entry = this.types.get(type);
    if (!entry) return [{ pointer: '/', message: `unknown node type "${type}"` }];
    return entry.validateProps(props) ? [] : ajvIssues(entry.validateProps.errors);
  }

  /** The node type's own checks (NodeDefinition.validate) on props that passed checkProps; a throwing check is an issue. */
  checkNode(type: string, props: Record<string, unknown>): NodeIssue[] {
    const validate = this.types.get(type)?.definition.validate;
    if (!validate) return [];
    try {
      return validate(props);
    } catch (error) {
      return [{ pointer: '/', message: `node type "${type}" could not check these props: ${(error as Error).message}` }];
    }
  }

  outputCount(type: string, props: Record<string, unknown>): number {
    const outputs = this.types.get(type)?.definition.outputs;
    if (outputs === undefined) return 0;
    if (typeof outputs === 'number') return outputs;
    const value = props[outputs.prop];
    const count = (Array.isArray(value) ? value.length : typeof value === 'number' ? value : Number(value) || 0) + (outputs.extra ?? 0);
    return Math.max(count, outputs.min ?? 0);
  }

  inputCount(type: string): number {
    return this.types.get(type)?.definition.inputs ?? 0;
  }

  /** The role a node type declares (error handler, manual entry, ...), if any. */
  roleOf(type: string): NodeRole | undefined {
    return this.types.get(type)?.definition.role;
  }

  allowsCycles(type: string): boolean {
    return this.types.get(type)?.definition.allowsCycles === true;
  }

  describe(): NodeTypeDescription[] {
    return [...this.types.values()].map(({ definition: d, pack }) => ({
      type: d.type,
      pack,
      category: d.category,
      label: d.label,
      icon: d.icon,
      color: d.color,
      inputs: d.inputs,
      outputs: d.outputs,
      outputLabels: d.outputLabels,
      props: d.props,
      credentials: d.credentials,
      help: d.help,
      allowsCycles: d.allowsCycles === true,
      usableAsTool: d.usableAsTool === true,
      ...(d.role ? { role: d.role } : {}),
    }));
  }
}

function packInfo(manifest: PackManifest, pkgDir: string, source: PackInfo['source']): PackInfo {
  const info: PackInfo = { name: manifest.name, version: manifest.version, path: pkgDir, source, status: 'loaded', sdkApi: manifest.sdkApi, types: [] };
  if (manifest.description) info.description = manifest.description;
  if (manifest.license) info.license = manifest.license;
  return info;
}
