/**
 * The one JSON Schema set-up of Flowcrew, used by the runtime (node props in the registry, flow documents, API
 * requests, credential fields) and the editor (props checked while the user types) alike, and by the validate node,
 * so a value is judged the same everywhere: ajv, draft 2020-12, every error reported at once, unknown keywords
 * allowed (schemas from the wild), standard formats checked (ajv-formats), editor-hint formats accepted as any
 * string, and Flowcrew's `x-*` annotations known as keywords.
 *
 * Browser-safe on purpose (the editor bundles it): it imports ajv and ajv-formats only. Where schemas run over
 * message data, the caller passes a linear-time `regExp` (the SDK's SafeRegExp, which needs Node).
 */
import { Ajv, type Options } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json' with { type: 'json' };

/**
 * Formats that are editor hints (which code editor to show), not constraints: accepted as any string.
 * Standard formats (uri, email, date-time, ...) come from ajv-formats and are checked.
 */
export const EDITOR_FORMATS = ['javascript', 'jsonata', 'json', 'markdown', 'mustache', 'html', 'sql', 'yaml', 'cron', 'code', 'password'] as const;

/** Annotations the editor reads (see NodeDefinition.props); validation ignores them. */
export const ANNOTATION_KEYWORDS = ['x-editor', 'x-language', 'x-enumTitles', 'x-optionsFrom', 'x-typeProperty', 'x-placeholder', 'x-placeholderFrom'] as const;

export interface SchemaValidatorOptions {
  /** Fill `default`s into the validated value (node props: the implementation sees complete props). */
  useDefaults?: boolean;
  /** Coerce strings to the schema's types (query parameters). */
  coerceTypes?: boolean;
  /** The regular expression engine for `pattern` (default: JavaScript's RegExp). */
  regExp?: NonNullable<Options['code']>['regExp'];
  /** false: a compiled schema's `$id` is not remembered (schemas that arrive with data must not see each other). */
  addUsedSchema?: boolean;
  /**
   * false: schemas are not checked against the draft's meta-schema before compiling. Only for schemas checked already
   * (the editor's copies of node-type schemas, which the runtime checked at load): compiling the meta-schema is the
   * slowest part of a first compile.
   */
  validateSchema?: boolean;
}

function options(o: SchemaValidatorOptions): Options {
  return {
    allErrors: true,
    strict: false,
    ...(o.useDefaults ? { useDefaults: true } : {}),
    ...(o.coerceTypes ? { coerceTypes: true } : {}),
    ...(o.addUsedSchema === false ? { addUsedSchema: false } : {}),
    ...(o.validateSchema === false ? { validateSchema: false } : {}),
    ...(o.regExp ? { code: { regExp: o.regExp } } : {}),
  };
}

const withFormats = addFormats as unknown as (ajv: Ajv | Ajv2020) => void;

function equip<A extends Ajv | Ajv2020>(ajv: A): A {
  withFormats(ajv);
  for (const format of EDITOR_FORMATS) ajv.addFormat(format, true);
  ajv.addVocabulary([...ANNOTATION_KEYWORDS]);
  return ajv;
}

/** An ajv for draft 2020-12 schemas with Flowcrew's options, formats and keywords. */
export function createSchemaValidator(o: SchemaValidatorOptions = {}): Ajv2020 {
  return equip(new Ajv2020(options(o)));
}

/** The same for schemas that name draft-07 or draft-06 in `$schema` (common in the wild; 2020-12 changed `items`). */
export function createDraft07SchemaValidator(o: SchemaValidatorOptions = {}): Ajv {
  const ajv = new Ajv(options(o));
  ajv.addMetaSchema(draft06);
  return equip(ajv);
}
