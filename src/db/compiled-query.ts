/**
 * Compile once, bind many: the queue's hot statements (claim, completion) have a handful of
 * shapes, but Kysely rebuilds and recompiles the operation tree on every call — measurable CPU on
 * a drain where each statement is cheap (SQLite runs in this thread). A template is the compiled
 * query of one shape, built with `Slot` markers where the per-call values go; `bind` swaps the
 * markers for the values and leaves every other parameter (constants such as 'running') as
 * compiled. The SQL text is identical across calls, so SQLite's statement cache (sqlite-driver.ts)
 * reuses the prepared statement too. The statement still runs through Kysely's executor.
 */
import type { CompiledQuery, Compilable } from 'kysely';

/** Stands for a per-call value in a template; `index` picks an element of a list value. */
export class Slot {
  constructor(
    readonly name: string,
    readonly index?: number,
  ) {}
}

/** A marker typed as the value it stands for, so builders accept it. */
export function slot<T>(name: string, index?: number): T {
  return new Slot(name, index) as unknown as T;
}

/** `count` markers for the elements of list value `name` (an IN list of that length). */
export function slots<T>(name: string, count: number): T[] {
  return Array.from({ length: count }, (_, i) => slot<T>(name, i));
}

/** Compiled templates by shape key; a bounded map, since keys come from a few option shapes. */
export class QueryTemplates {
  readonly #cache = new Map<string, CompiledQuery>();

  constructor(private readonly maxShapes = 64) {}

  /** The template for `key`, compiled by `build` the first time the key is seen. */
  get(key: string, build: () => Compilable): CompiledQuery {
    let template = this.#cache.get(key);
    if (template === undefined) {
      template = build().compile();
      if (this.#cache.size >= this.maxShapes) this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(key, template);
    }
    return template;
  }
}

/** The template with its markers replaced by `values[name]` (or its element `index`). */
export function bind<R>(template: CompiledQuery, values: Readonly<Record<string, unknown>>): CompiledQuery<R> {
  const parameters = template.parameters.map((p) => {
    if (!(p instanceof Slot)) return p;
    if (!(p.name in values)) throw new Error(`no value bound for query slot "${p.name}"`);
    const value = values[p.name];
    return p.index === undefined ? value : (value as readonly unknown[])[p.index];
  });
  return { ...template, parameters } as CompiledQuery<R>;
}
