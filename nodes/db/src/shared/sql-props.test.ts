import { describe, expect, it } from 'vitest';
import { mysqlNode } from '../mysql/node.ts';
import { odbcNode } from '../odbc/node.ts';
import { postgresNode } from '../postgres/node.ts';

type Schema = { properties: Record<string, { title?: string }>; allOf: Array<{ if: { properties: { operation: { const?: string; enum?: string[] } } }; then: { required: string[]; properties: Record<string, object> } }> };

/** The fields a form shows for an operation: the always-shown ones plus that operation's `then` fields. */
function fieldsFor(schema: Schema, operation: string): string[] {
  const conditional = new Set(schema.allOf.flatMap((part) => Object.keys(part.then.properties)));
  const always = Object.keys(schema.properties).filter((name) => !conditional.has(name));
  const part = schema.allOf.find((p) => p.if.properties.operation.const === operation);
  return [...always, ...Object.keys(part!.then.properties)].sort();
}

describe('the SQL nodes share one form: the same titles, and only the chosen operation\'s fields', () => {
  for (const node of [postgresNode, mysqlNode, odbcNode]) {
    const schema = node.props as unknown as Schema;
    it(`${node.type}: every field has a title; each operation shows its own fields`, () => {
      for (const [name, field] of Object.entries(schema.properties)) expect(field.title, `${node.type}.${name}`).toBeTruthy();
      expect(fieldsFor(schema, 'query')).toEqual(expect.arrayContaining(['operation', 'sql', 'params', 'output', 'maxRows', 'pageSize']));
      expect(fieldsFor(schema, 'query')).not.toContain('table');
      expect(fieldsFor(schema, 'insert')).toEqual(expect.arrayContaining(['table', 'columns', 'rowsFrom', 'batchSize', 'atomic']));
      expect(fieldsFor(schema, 'insert')).not.toContain('sql');
      expect(fieldsFor(schema, 'insert')).not.toContain('updateColumns');
      expect(fieldsFor(schema, 'upsert')).toContain('updateColumns');
      expect(fieldsFor(schema, 'transaction')).toEqual(expect.arrayContaining(['statements', 'maxRows']));
      expect(fieldsFor(schema, 'transaction')).not.toContain('sql');
    });
  }

  it('PostgreSQL needs the upsert key; its placeholders read $1, MySQL\'s and ODBC\'s ?', () => {
    const pg = postgresNode.props as unknown as Schema & { properties: Record<string, { description?: string }> };
    expect(pg.allOf.find((p) => p.if.properties.operation.const === 'upsert')!.then.required).toContain('conflictColumns');
    expect(pg.properties.sql?.description).toContain('$1');
    expect((mysqlNode.props as unknown as typeof pg).properties.sql?.description).toContain('?');
  });
});
