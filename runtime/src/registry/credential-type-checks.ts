/** Credential types as the registry checks and serves them, and the ajv the registry checks props and fields with. */
import type { Ajv2020, ValidateFunction } from 'ajv/dist/2020.js';
import { createSchemaValidator } from '@flowcrew/sdk/schema';
import { secretFieldsOf, type CredentialTypeDefinition } from '@flowcrew/sdk';
import { PackLoadError } from './pack-loader.ts';

export interface RegisteredCredentialType {
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

/** Checks a pack's credential types as a whole (a clash with another pack's, a bad schema): all of them or an error. */
export function prepareCredentialTypes(
  ajv: Ajv2020,
  registered: ReadonlyMap<string, RegisteredCredentialType>,
  definitions: CredentialTypeDefinition[],
  pack: string,
  replacing?: string,
): RegisteredCredentialType[] {
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
    const existing = registered.get(definition.name);
    if (existing && existing.pack !== pack && existing.pack !== replacing) throw new PackLoadError(`${where}: credential type "${definition.name}" is already provided by pack "${existing.pack}"`, 'clash');
    const properties = (definition.schema.properties ?? {}) as Record<string, unknown>;
    const unknownSecret = (definition.secret ?? []).filter((name) => !(name in properties));
    if (unknownSecret.length) throw new Error(`${where}: secret field(s) ${unknownSecret.join(', ')} are not in the schema's properties`);
    let validateFields: ValidateFunction;
    try {
      validateFields = ajv.compile({ type: 'object', ...definition.schema });
    } catch (error) {
      throw new Error(`${where}: "schema" is not a valid JSON Schema: ${(error as Error).message}`);
    }
    return { definition, pack, validateFields };
  });
}

/** A credential type as the API serves it: its schema with secret fields marked writeOnly, never its code. */
export function describeCredentialType({ definition: d, pack }: RegisteredCredentialType): CredentialTypeDescription {
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
}

export { EDITOR_FORMATS } from '@flowcrew/sdk/schema';

/** The shared set-up (@flowcrew/sdk/schema, as the editor's), filling prop defaults so a node sees complete props. */
export function createPropsValidator(): Ajv2020 {
  return createSchemaValidator({ useDefaults: true });
}

