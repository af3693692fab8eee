/**
 * One copy of Kysely per process: every module takes Kysely's runtime values (sql, Kysely,
 * CompiledQuery, …) from src/db/kysely.ts, which loads its CommonJS build (a fraction of the ES
 * module build's load time on a worker's boot). A value imported from 'kysely' itself would load
 * the second, ES-module copy; type-only imports from 'kysely' cost nothing at run time.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) ? [path] : [];
  });
}

/** The runtime values a file imports from 'kysely' directly (type-only imports excluded). Pure. */
export function kyselyValueImports(source: string): string[] {
  const values: string[] = [];
  for (const m of source.matchAll(/import\s+(type\s+)?([^;]*?)\s+from\s+['"]kysely['"]/g)) {
    if (m[1]) continue;
    const braces = /\{([^}]*)\}/.exec(m[2]!);
    const names = braces ? braces[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('type ')) : [m[2]!.trim()];
    values.push(...names);
  }
  return values;
}

describe('kysely imports', () => {
  it('tells value imports from type-only ones', () => {
    expect(kyselyValueImports(`import { sql, type Kysely } from 'kysely';`)).toEqual(['sql']);
    expect(kyselyValueImports(`import type { Kysely } from 'kysely';\nimport { type CompiledQuery } from 'kysely';`)).toEqual([]);
    expect(kyselyValueImports(`import * as K from "kysely";`)).toEqual(['* as K']);
  });

  it('no module outside src/db/kysely.ts takes a runtime value from kysely itself', () => {
    const offenders = ['src', 'migrations', 'workers']
      .flatMap((dir) => sourceFiles(join(ROOT, dir)))
      .filter((file) => !file.endsWith(join('src', 'db', 'kysely.ts')))
      .map((file) => ({ file: relative(ROOT, file), values: kyselyValueImports(readFileSync(file, 'utf8')) }))
      .filter((f) => f.values.length > 0)
      .map((f) => `${f.file}: ${f.values.join(', ')} (import them from src/db/kysely.ts)`);
    expect(offenders).toEqual([]);
  });
});
