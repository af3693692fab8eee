/**
 * Seed 000's rule: no PostgreSQL-only construct outside the dialect layer (src/db). Queries
 * elsewhere are written once with Kysely and run on both backends.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const FORBIDDEN: Array<[string, RegExp]> = [
  ['ILIKE', /\bilike\b/i],
  ['::jsonb', /::\s*jsonb\b/i],
  ['->>', /->>/],
  ['FOR UPDATE', /\bfor\s+update\b|\.forUpdate\s*\(/i],
  ['SKIP LOCKED', /\bskip\s+locked\b|\.skipLocked\s*\(/i],
  ['NOW()', /(?<![.\w])now\s*\(\s*\)/i], // SQL NOW(), not Date.now() or clock.now()
];

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
    for (const [, pattern] of FORBIDDEN) expect(pattern.test(sample)).toBe(true);
    expect(FORBIDDEN.find(([name]) => name === 'NOW()')![1].test('const t = Date.now();')).toBe(false);
  });
});
