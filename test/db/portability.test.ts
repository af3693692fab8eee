/**
 * Backend differences live in the database layer (src/db) only: no PostgreSQL-only construct and
 * no branch on the backend's name anywhere else. Queries elsewhere are written once with Kysely
 * and run on both backends; other code asks the dialect for a capability or a clause.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const POSTGRES_ONLY: Array<[string, RegExp]> = [
  ['ILIKE', /\bilike\b/i],
  ['::jsonb', /::\s*jsonb\b/i],
  ['->>', /->>/],
  ['FOR UPDATE', /\bfor\s+update\b|\.forUpdate\s*\(/i],
  ['SKIP LOCKED', /\bskip\s+locked\b|\.skipLocked\s*\(/i],
  ['NOW()', /(?<![.\w])now\s*\(\s*\)/i], // SQL NOW(), not Date.now() or clock.now()
];
/** Comparing anything named `backend`, switching on it, or a `case` for a backend's name. */
const BACKEND_BRANCH =
  /\bbackend\s*[!=]==?|[!=]==?\s*[\w.?]*\bbackend\b|\bswitch\s*\(\s*[\w.?]*\bbackend\s*\)|\bcase\s+['"`](?:sqlite|postgres(?:ql)?)['"`]/;
const FORBIDDEN: Array<[string, RegExp]> = [...POSTGRES_ONLY, ['branch on the backend name', BACKEND_BRANCH]];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(name) ? [path] : [];
  });
}

describe('portability', () => {
  const files = [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'workers'))].filter(
    (f) => !relative(ROOT, f).startsWith(join('src', 'db')),
  );

  it('scans the source tree', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(FORBIDDEN)('no %s outside src/db', (_name, pattern) => {
    const offenders = files.filter((f) => pattern.test(readFileSync(f, 'utf8'))).map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('the detector itself catches a PostgreSQL-only query', () => {
    const sample = "select * from t where name ILIKE 'a%' and (data->>'k')::jsonb = now() for update skip locked";
    for (const [, pattern] of POSTGRES_ONLY) expect(pattern.test(sample)).toBe(true);
    expect(POSTGRES_ONLY.find(([name]) => name === 'NOW()')![1].test('const t = Date.now();')).toBe(false);
  });

  it('the detector itself catches a branch on the backend name, not a capability check or a report of the name', () => {
    const branches = [
      "if (store.target.backend === 'postgres') listen();",
      "if (target.backend !== 'sqlite' || target.path === ':memory:') return;",
      "const poll = 'sqlite' === store.dialect.backend;",
      'switch (target.backend) {',
      "  case 'postgres':",
    ];
    for (const line of branches) expect(BACKEND_BRANCH.test(line), line).toBe(true);
    const allowed = [
      'if (store.dialect.capabilities.listenNotify) listen();',
      'return { backend: store.dialect.backend };',
      "const choose = (backend) => dialectFor(backend);",
    ];
    for (const line of allowed) expect(BACKEND_BRANCH.test(line), line).toBe(false);
  });
});
