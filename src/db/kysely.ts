/**
 * Kysely's runtime values, taken from its CommonJS build. Its ES-module build is 262 files, and
 * loading them was the largest single part of a site worker's boot (on the path from a work item
 * becoming claimable to its start); the CommonJS build of the same version loads in ~60 % of the
 * CPU (docs/benchmarks.md, "Round two: worker start"). Every jobyard module takes kysely's values
 * from here, so a process holds one copy; types still come from 'kysely' (the same declarations).
 */
import { createRequire } from 'node:module';
import type * as K from 'kysely';

const kysely = createRequire(import.meta.url)('kysely') as typeof K;

// A value and a type of the same name, like the classes they stand for.
export const Kysely = kysely.Kysely;
export type Kysely<DB> = K.Kysely<DB>;
export const CompiledQuery = kysely.CompiledQuery;
export type CompiledQuery<O = unknown> = K.CompiledQuery<O>;
export const Migrator = kysely.Migrator;
export type Migrator = K.Migrator;
export const PostgresDialect = kysely.PostgresDialect;
export type PostgresDialect = K.PostgresDialect;
export const SqliteAdapter = kysely.SqliteAdapter;
export type SqliteAdapter = K.SqliteAdapter;
export const SqliteDialect = kysely.SqliteDialect;
export type SqliteDialect = K.SqliteDialect;
export const SqliteDriver = kysely.SqliteDriver;
export type SqliteDriver = K.SqliteDriver;
export const NO_MIGRATIONS = kysely.NO_MIGRATIONS;
export const sql = kysely.sql;
