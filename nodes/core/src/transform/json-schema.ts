/**
 * JSON Schema validation for the json node's `msg.schema`, with the validator Node-RED uses (ajv, all errors
 * reported, draft-07 and draft-06 schemas). Schemas arrive with every message, so compiled validators are
 * cached by the schema's JSON text.
 */
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { createDraft07SchemaValidator } from '@flowcrew/sdk/schema';
import { SafeRegExp } from '@flowcrew/sdk/util';

export type SchemaErrors = ErrorObject[];

export type SchemaCheck = { valid: true } | { valid: false; errors: SchemaErrors; text: string };

export type SchemaValidator = (value: unknown) => SchemaCheck;

/** `pattern` keywords come with the message: they run on a regex that cannot stall the runtime. */
const safePattern = Object.assign((pattern: string, flags: string) => new SafeRegExp(pattern, flags), { code: 'SafeRegExp' });

function createAjv(): Ajv {
  // addUsedSchema false: a message's schema `$id` must not clash with, or be visible to, other messages' schemas.
  // The shared set-up (as for props): unknown keywords are ignored and standard formats checked, where Node-RED's
  // strict ajv refuses such a schema (node-red-differences.md).
  return createDraft07SchemaValidator({ regExp: safePattern, addUsedSchema: false });
}

export class SchemaCache {
  private ajv = createAjv();
  private compiles = 0;
  private readonly validators = new Map<string, SchemaValidator>();

  /** `limit` bounds the validators kept, and the schemas ajv itself holds on to. */
  constructor(private readonly limit = 100) {}

  get size(): number {
    return this.validators.size;
  }

  /** The validator for `schema`; throws when the schema does not compile. */
  validator(schema: unknown): SchemaValidator {
    const text = JSON.stringify(schema);
    if (text === undefined) throw new Error('schema is not JSON');
    const cached = this.validators.get(text);
    if (cached) return cached;
    if (this.compiles >= this.limit) {
      // ajv keeps every schema it has compiled (failed ones too) and cannot drop them safely one by one:
      // start again with a fresh instance. Validators handed out before keep working.
      this.validators.clear();
      this.ajv = createAjv();
      this.compiles = 0;
    }
    this.compiles++;
    // A private copy: the message may change its schema object after this.
    const validate: ValidateFunction = this.ajv.compile(JSON.parse(text) as object);
    // An `$async` schema validates through a promise, which would always read as valid here.
    if ('$async' in validate && validate.$async) throw new Error('asynchronous schemas ($async) are not supported');
    const ajv = this.ajv;
    const validator: SchemaValidator = (value) => {
      if (validate(value)) return { valid: true };
      const errors = [...(validate.errors ?? [])];
      return { valid: false, errors, text: ajv.errorsText(errors) };
    };
    this.validators.set(text, validator);
    return validator;
  }
}
