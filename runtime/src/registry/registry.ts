/**
 * The node registry: finds node packs, loads them, checks their definitions, and isolates a broken pack.
 * Loading is separate from running (as Node-RED's registry is from its runtime): the executor only asks the
 * registry for definitions and compiled props validators.
 *
 * A pack is an npm package whose package.json has `"flowcrew": { "nodes": ["./path/to/module.js", ...] }`;
 * each module exports `nodes` (or a default export) as an array of node definitions.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { secretFieldsOf, type CredentialTypeDefinition, type NodeDefinition, type NodeIssue } from '@flowcrew/sdk';
import { ajvIssues, type NodeTypeCatalog } from '../flow/validate.ts';

export interface PackInfo {
  name: string;
  version: string;
  /** Directory of the package. */
  path: string;
  source: 'workspace' | 'user' | 'builtin';
  status: 'loaded' | 'error';
  error?: string;
  types: string[];
  /** Credential types the pack declares. */
  credentialTypes?: string[];
}

interface RegisteredType {
  definition: NodeDefinition;
  pack: string;
  validateProps: ValidateFunction;
}

interface RegisteredCredentialType {
  definition: CredentialTypeDefinition;
  pack: string;
  validateFields: ValidateFunction;
}

/** A credential type as the API and editor see it: data only (the form's schema), never its code. */
export interface CredentialTypeDescription {
  name: string;
  pack: string;
  label: string;
  description?: string;
  /** JSON Schema of the fields; secret ones are marked `writeOnly: true`. */
  schema: unknown;
  secretFields: string[];
  /** Whether "Test connection" is offered. */
  testable: boolean;
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
}

export class NodeRegistry implements NodeTypeCatalog {
  private readonly types = new Map<string, RegisteredType>();
  private readonly credentialTypes = new Map<string, RegisteredCredentialType>();
  readonly packs: PackInfo[] = [];
  private readonly ajv = createPropsValidator();

  /** Load every package under `dir` (e.g. the workspace `nodes/`) that declares a `flowcrew` field. */
  async loadPackagesIn(dir: string, source: PackInfo['source']): Promise<void> {
    for (const pkgDir of await listPackageDirs(dir)) await this.loadPackage(pkgDir, source);
  }

  /** Load the user node directory: npm packages installed under `<dir>/node_modules`. */
  async loadUserDirectory(dir: string): Promise<void> {
    await this.loadPackagesIn(path.join(dir, 'node_modules'), 'user');
  }

  /** Load one package directory. A failure is recorded on the pack and never thrown. */
  async loadPackage(pkgDir: string, source: PackInfo['source']): Promise<PackInfo | undefined> {
    let manifest: { name?: string; version?: string; flowcrew?: { nodes?: unknown } };
    try {
      manifest = JSON.parse(await readFile(path.join(pkgDir, 'package.json'), 'utf8'));
    } catch {
      return undefined; // Not a package: nothing to report.
    }
    if (!manifest.flowcrew) return undefined;
    const info: PackInfo = { name: manifest.name ?? path.basename(pkgDir), version: manifest.version ?? '0.0.0', path: pkgDir, source, status: 'loaded', types: [] };
    if (this.packs.some((p) => p.name === info.name)) return undefined; // A workspace pack wins over a copy installed elsewhere.
    this.packs.push(info);
    try {
      const modules = manifest.flowcrew.nodes;
      if (!Array.isArray(modules) || modules.length === 0 || !modules.every((m) => typeof m === 'string')) {
        throw new Error('package.json "flowcrew.nodes" must be a non-empty array of module paths');
      }
      const definitions: NodeDefinition[] = [];
      const credentialTypes: CredentialTypeDefinition[] = [];
      for (const modulePath of modules as string[]) {
        const loaded = (await import(pathToFileURL(path.resolve(pkgDir, modulePath)).href)) as { nodes?: unknown; default?: unknown; credentialTypes?: unknown };
        const list = loaded.nodes ?? loaded.default;
        if (!Array.isArray(list)) throw new Error(`module "${modulePath}" must export "nodes" (or a default export) as an array of node definitions`);
        definitions.push(...(list as NodeDefinition[]));
        if (loaded.credentialTypes !== undefined) {
          if (!Array.isArray(loaded.credentialTypes)) throw new Error(`module "${modulePath}": "credentialTypes" must be an array of credential type definitions`);
          credentialTypes.push(...(loaded.credentialTypes as CredentialTypeDefinition[]));
        }
      }
      // Check the whole pack before registering any of it, so a pack is either fully in or fully out.
      const prepared = definitions.map((definition, i) => this.prepare(definition, info.name, i));
      const preparedCredentials = this.prepareCredentialTypes(credentialTypes, info.name);
      for (const entry of prepared) {
        this.types.set(entry.definition.type, entry);
        info.types.push(entry.definition.type);
      }
      for (const entry of preparedCredentials) this.credentialTypes.set(entry.definition.name, entry);
      if (preparedCredentials.length > 0) info.credentialTypes = preparedCredentials.map((e) => e.definition.name);
    } catch (error) {
      info.status = 'error';
      info.error = error instanceof Error ? error.message : String(error);
    }
    return info;
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
    for (const entry of this.prepareCredentialTypes(definitions, packName)) this.credentialTypes.set(entry.definition.name, entry);
  }

  private prepareCredentialTypes(definitions: CredentialTypeDefinition[], pack: string): RegisteredCredentialType[] {
    const seen = new Set<string>();
    return definitions.map((definition, index) => {
      const where = `credential type #${index}${definition && typeof definition.name === 'string' ? ` ("${definition.name}")` : ''}`;
      if (!definition || typeof definition !== 'object') throw new Error(`${where} is not an object`);
      if (typeof definition.name !== 'string' || !/^[a-z0-9][a-z0-9_.:-]*$/i.test(definition.name)) throw new Error(`${where}: "name" must be a name of letters, digits, - _ . :`);
      if (typeof definition.label !== 'string') throw new Error(`${where}: "label" is a required string`);
      if (definition.test !== undefined && typeof definition.test !== 'function') throw new Error(`${where}: "test" must be a function`);
      if (!definition.schema || typeof definition.schema !== 'object') throw new Error(`${where}: "schema" must be a JSON Schema object`);
      if (seen.has(definition.name)) throw new Error(`${where}: declared twice in the pack`);
      seen.add(definition.name);
      const existing = this.credentialTypes.get(definition.name);
      if (existing && existing.pack !== pack) throw new Error(`${where}: credential type "${definition.name}" is already provided by pack "${existing.pack}"`);
      const properties = (definition.schema.properties ?? {}) as Record<string, unknown>;
      const unknownSecret = (definition.secret ?? []).filter((name) => !(name in properties));
      if (unknownSecret.length) throw new Error(`${where}: secret field(s) ${unknownSecret.join(', ')} are not in the schema's properties`);
      let validateFields: ValidateFunction;
      try {
        validateFields = this.ajv.compile({ type: 'object', ...definition.schema });
      } catch (error) {
        throw new Error(`${where}: "schema" is not a valid JSON Schema: ${(error as Error).message}`);
      }
      return { definition, pack, validateFields };
    });
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
    return [...this.credentialTypes.values()].map(({ definition: d, pack }) => {
      const secretFields = secretFieldsOf(d);
      // Secret fields are marked writeOnly in the schema served, whichever way the pack declared them.
      const properties = Object.fromEntries(
        Object.entries((d.schema.properties ?? {}) as Record<string, Record<string, unknown>>).map(([name, spec]) => [name, secretFields.includes(name) ? { ...spec, writeOnly: true } : spec]),
      );
      return {
        name: d.name,
        pack,
        label: d.label,
        ...(d.description ? { description: d.description } : {}),
        schema: { ...d.schema, properties },
        secretFields,
        testable: typeof d.test === 'function',
      };
    });
  }

  private prepare(definition: NodeDefinition, pack: string, index: number): RegisteredType {
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
    const existing = this.types.get(definition.type);
    if (existing && existing.pack !== pack) throw new Error(`${where}: type "${definition.type}" is already provided by pack "${existing.pack}"`);
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
    }));
  }
}

/**
 * Formats that are editor hints (which code editor to show), not constraints: accepted as any string.
 * Standard formats (uri, email, date-time, ...) come from ajv-formats and are checked.
 */
export const EDITOR_FORMATS = ['javascript', 'jsonata', 'json', 'markdown', 'mustache', 'html', 'sql', 'yaml', 'cron', 'code', 'password'];

function createPropsValidator(): Ajv2020 {
  // useDefaults fills prop defaults at validation, so a node's implementation sees complete props.
  const ajv = new Ajv2020({ allErrors: true, strict: false, useDefaults: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  for (const format of EDITOR_FORMATS) ajv.addFormat(format, true);
  return ajv;
}

async function listPackageDirs(dir: string): Promise<string[]> {
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
