/** The one JSON Schema set-up: what it checks, what it accepts, and that nobody builds another. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANNOTATION_KEYWORDS, createDraft07SchemaValidator, createSchemaValidator, EDITOR_FORMATS } from './schema.ts';

describe('shared schema set-up', () => {
  it('checks standard formats, accepts editor-hint formats as any string, and reports every error', () => {
    const check = createSchemaValidator().compile({
      type: 'object',
      properties: { url: { type: 'string', format: 'uri' }, code: { type: 'string', format: 'jsonata' }, n: { type: 'integer' } },
    });
    expect(check({ url: 'not a uri', code: '$$ % anything', n: 1.5 })).toBe(false);
    expect(check.errors?.map((e) => e.instancePath).sort()).toEqual(['/n', '/url']);
    expect(check({ url: 'https://example.org/', code: 'x', n: 1 })).toBe(true);
    expect(EDITOR_FORMATS).toContain('jsonata');
  });

  it('knows the x-* annotations and ignores unknown keywords (schemas from the wild)', () => {
    const ajv = createSchemaValidator();
    for (const keyword of ANNOTATION_KEYWORDS) expect((ajv as unknown as { RULES: { keywords: Record<string, unknown> } }).RULES.keywords[keyword], keyword).toBe(true);
    const check = ajv.compile({ type: 'string', enum: ['a'], 'x-enumTitles': ['A'], 'x-whatever': 1, someVendorKeyword: true });
    expect(check('a')).toBe(true);
  });

  it('fills defaults when asked (props), coerces when asked (query), and speaks draft-07 too', () => {
    const props: Record<string, unknown> = {};
    createSchemaValidator({ useDefaults: true }).compile({ type: 'object', properties: { n: { type: 'number', default: 3 } } })(props);
    expect(props).toEqual({ n: 3 });
    const query = { limit: '10' };
    expect(createSchemaValidator({ coerceTypes: true }).compile({ type: 'object', properties: { limit: { type: 'integer' } } })(query)).toBe(true);
    expect(query).toEqual({ limit: 10 });
    const old = createDraft07SchemaValidator().compile({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'string' }, { type: 'number' }] });
    expect([old(['a', 1]), old([1, 'a'])]).toEqual([true, false]);
  });

  it('is the only ajv built in the sources (the vault keyring checks its own file strictly, on purpose)', () => {
    const root = path.resolve(import.meta.dirname, '..', '..', '..');
    let found = '';
    try {
      found = execFileSync('git', ['grep', '-lE', 'new Ajv(2020)?\\(', '--', '*.ts', '*.vue', ':!*.test.ts', ':!nodes/sdk/src/schema.ts'], { cwd: root, encoding: 'utf8' });
    } catch (error) {
      // git grep exits 1 when nothing matches.
      if ((error as { status?: number }).status !== 1) throw error;
    }
    expect(found.trim().split('\n').filter(Boolean)).toEqual(['runtime/src/vault/keyring.ts']);
  });
});
