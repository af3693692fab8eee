import { describe, expect, it } from 'vitest';
import { InvalidJson } from '../../src/db/dialect.js';
import { loadBetterSqlite3, rowBuilder, wrapSqliteDatabase } from '../../src/db/sqlite-driver.js';

// SQLite rows are read as arrays and made into objects by one built function per statement.
describe('SQLite row builder', () => {
  it('names each value by its column, in column order', () => {
    const row = rowBuilder(['id', 'kind', 'site_id'])([7, 'noop', null]);
    expect(row).toEqual({ id: 7, kind: 'noop', site_id: null });
    expect(Object.keys(row)).toEqual(['id', 'kind', 'site_id']);
  });

  it('turns 0/1 back into booleans in boolean columns and parses *_json columns', () => {
    const build = rowBuilder(['enabled', 'archived', 'payload_json', 'result_json', 'count']);
    expect(build([1, 0, '{"a":[1,2]}', null, 1])).toEqual({
      enabled: true,
      archived: false,
      payload_json: { a: [1, 2] },
      result_json: null,
      count: 1,
    });
  });

  it('hands back a corrupt JSON cell as InvalidJson instead of throwing', () => {
    const row = rowBuilder(['payload_json'])(['{not json']);
    expect(row.payload_json).toBeInstanceOf(InvalidJson);
    expect(String(row.payload_json)).toContain('payload_json');
  });

  it('keeps a column named __proto__ as a property, not as the prototype', () => {
    const row = rowBuilder(['__proto__', 'x'])([{ polluted: true }, 1]);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toEqual({ polluted: true });
    expect((row as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('quotes any column name: names never become code', () => {
    const name = `a"); globalThis.__rowBuilderInjected = true; ("`;
    const row = rowBuilder([name, "it's", 'back\\slash'])([1, 2, 3]);
    expect(row).toEqual({ [name]: 1, "it's": 2, 'back\\slash': 3 });
    expect((globalThis as { __rowBuilderInjected?: unknown }).__rowBuilderInjected).toBeUndefined();
  });

  it('keeps the last value of a repeated column name, as better-sqlite3 objects do', () => {
    const Database = loadBetterSqlite3();
    const raw = new Database(':memory:');
    try {
      const expected = raw.prepare('select 1 as id, 2 as id').get();
      const db = wrapSqliteDatabase(raw);
      expect(db.prepare('select 1 as id, 2 as id').all([])).toEqual([expected]);
      expect([...db.prepare('select 3 as n union all select 4').iterate([])]).toEqual([{ n: 3 }, { n: 4 }]);
    } finally {
      raw.close();
    }
  });
});
