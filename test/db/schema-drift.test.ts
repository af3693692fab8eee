/**
 * src/db/schema.ts must describe the live schema exactly: same tables, same columns, same
 * nullability, Generated<> exactly where the database fills a default. The interfaces are read
 * with the TypeScript compiler API, so the file stays a plain, readable Kysely interface.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { BOOLEAN_COLUMNS, isJsonColumn } from '../../src/db/dialect.js';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE } from '../../src/db/migrate.js';
import { describeBackends } from '../helpers/backends.js';

interface DeclaredColumn {
  nullable: boolean;
  generated: boolean;
}

/**
 * table → column → declaration, from `interface Database` and the interfaces it names, including
 * those of `OperatorTables` in schema-operator.ts, which Database extends.
 */
function declaredSchema(): Map<string, Map<string, DeclaredColumn>> {
  const interfaces = new Map<string, { node: ts.InterfaceDeclaration; source: ts.SourceFile }>();
  for (const file of ['schema.ts', 'schema-operator.ts']) {
    const path = join(import.meta.dirname, '..', '..', 'src', 'db', file);
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
    source.forEachChild((node) => {
      if (ts.isInterfaceDeclaration(node)) interfaces.set(node.name.text, { node, source });
    });
  }
  const roots = ['Database', 'OperatorTables'].map((name) => {
    const found = interfaces.get(name);
    if (!found) throw new Error(`src/db has no interface ${name}`);
    return found;
  });
  const tables = new Map<string, Map<string, DeclaredColumn>>();
  for (const { node: database, source } of roots) {
    for (const member of database.members) {
      if (!ts.isPropertySignature(member) || !member.type) continue;
      const tableName = (member.name as ts.Identifier).text;
      const found = interfaces.get(member.type.getText(source));
      if (!found) throw new Error(`src/db: no interface ${member.type.getText(source)} for ${tableName}`);
      const columns = new Map<string, DeclaredColumn>();
      for (const col of found.node.members) {
        if (!ts.isPropertySignature(col) || !col.type) continue;
        const text = col.type.getText(found.source);
        columns.set((col.name as ts.Identifier).text, {
          nullable: /\bnull\b/.test(text) || text.startsWith('NullableJson'),
          generated: text.startsWith('Generated<'),
        });
      }
      tables.set(tableName, columns);
    }
  }
  return tables;
}

describeBackends('schema.ts matches the migrated database', (ctx) => {
  it('has the same tables, columns, nullability and defaults', async () => {
    const declared = declaredSchema();
    const schema = await ctx.store.dialect.currentSchema(ctx.db);
    const live = (await ctx.db.introspection.getTables()).filter(
      (t) => (!schema || t.schema === schema) && t.name !== MIGRATION_TABLE && t.name !== MIGRATION_LOCK_TABLE,
    );
    expect(live.map((t) => t.name).sort()).toEqual([...declared.keys()].sort());
    const drift: string[] = [];
    for (const table of live) {
      const columns = declared.get(table.name)!;
      const liveNames = table.columns.map((c) => c.name).sort();
      const declaredNames = [...columns.keys()].sort();
      if (liveNames.join() !== declaredNames.join()) {
        drift.push(`${table.name}: live [${liveNames}] vs schema.ts [${declaredNames}]`);
        continue;
      }
      for (const col of table.columns) {
        const d = columns.get(col.name)!;
        if (d.nullable !== col.isNullable) drift.push(`${table.name}.${col.name}: nullable live=${col.isNullable} schema.ts=${d.nullable}`);
        const hasDefault = col.hasDefaultValue || col.isAutoIncrementing;
        if (d.generated !== hasDefault) drift.push(`${table.name}.${col.name}: default live=${hasDefault} Generated<>=${d.generated}`);
        if (ctx.backend === 'postgres') {
          if ((col.dataType === 'bool') !== BOOLEAN_COLUMNS.has(col.name)) drift.push(`${table.name}.${col.name}: boolean type vs BOOLEAN_COLUMNS`);
          if ((col.dataType === 'jsonb') !== isJsonColumn(col.name)) drift.push(`${table.name}.${col.name}: jsonb type vs *_json name`);
        }
      }
    }
    expect(drift).toEqual([]);
  });
});
