import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { describe, expect, it } from 'vitest';
import { bind, QueryTemplates, slot, slots } from '../../src/db/compiled-query.js';

// A Kysely that compiles PostgreSQL text without a connection: these tests are about binding only.
const db = new Kysely<{ t: { id: number; lane: string; status: string } }>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new PostgresIntrospector(k),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

describe('compiled query templates', () => {
  const template = db
    .updateTable('t')
    .set({ status: 'running' })
    .where('id', '<=', slot<number>('max'))
    .where('lane', 'in', slots<string>('lanes', 2))
    .compile();

  it('puts each bound value where its slot was and keeps the constants', () => {
    const q = bind(template, { max: 7, lanes: ['a', 'b'] });
    expect(q.sql).toBe(template.sql);
    expect(q.parameters).toEqual(['running', 7, 'a', 'b']);
    // The template itself is not changed by binding.
    expect(bind(template, { max: 9, lanes: ['c', 'd'] }).parameters).toEqual(['running', 9, 'c', 'd']);
  });

  it('refuses a template with a slot left unbound', () => {
    expect(() => bind(template, { lanes: ['a', 'b'] })).toThrow(/slot "max"/);
  });

  it('compiles a shape once and evicts the oldest shape past its bound', () => {
    const templates = new QueryTemplates(2);
    let builds = 0;
    const build = () => {
      builds++;
      return db.selectFrom('t').select('id').where('id', '=', slot<number>('id'));
    };
    const first = templates.get('a', build);
    expect(templates.get('a', build)).toBe(first);
    templates.get('b', build);
    templates.get('c', build);
    expect(builds).toBe(3);
    templates.get('a', build);
    expect(builds).toBe(4);
  });
});
