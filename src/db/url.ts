import { dirname, resolve } from 'node:path';
import { UserError } from '../errors.js';

/** Where jobyard keeps its embedded database when `DATABASE_URL` is unset. */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/jobyard.db';

export type DatabaseTarget =
  | { backend: 'sqlite'; path: string } // path ':memory:' for an in-memory database
  | { backend: 'postgres'; connectionString: string };

const ACCEPTED_FORMS =
  'sqlite:PATH, sqlite::memory:, a plain file path, or postgres://… / postgresql://…';

/**
 * Turns a `DATABASE_URL` into a backend and its connection target. Pure: no file or network access.
 * Anything unrecognised is a UserError naming the accepted forms, with any password masked.
 */
export function parseDatabaseUrl(url: string | undefined): DatabaseTarget {
  const raw = (url ?? '').trim() || DEFAULT_DATABASE_URL;
  if (/^postgres(ql)?:\/\//i.test(raw)) {
    checkPostgresUrl(raw);
    return { backend: 'postgres', connectionString: raw };
  }
  if (/^sqlite:/i.test(raw)) {
    // `sqlite:///abs/path` and `sqlite://rel/path` are common spellings of `sqlite:PATH`.
    let path = raw.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') throw new UserError(`DATABASE_URL "${raw}" has no path; expected ${ACCEPTED_FORMS}`);
    return { backend: 'sqlite', path };
  }
  // A scheme we do not know (mysql://, http://, …) is an error, never a file name.
  if (/^[a-z][a-z0-9+.-]*:/i.test(raw) && !/^[a-z]:[\\/]/i.test(raw)) {
    throw new UserError(`unsupported DATABASE_URL "${maskUrl(raw)}": expected ${ACCEPTED_FORMS}`);
  }
  return { backend: 'sqlite', path: raw };
}

/** The port (1–65535) and the URL syntax, so pg never reports a bare "Invalid URL". */
function checkPostgresUrl(raw: string): void {
  const port = /^postgres(?:ql)?:\/\/(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*)(?::([^/?#]*))?/i.exec(raw)?.[1];
  if (port !== undefined && port !== '' && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    throw new UserError(`DATABASE_URL "${maskUrl(raw)}": port "${port}" is not a port number; expected 1-65535 (postgres://user:pass@host:5432/db)`);
  }
  try {
    new URL(raw);
  } catch {
    throw new UserError(`DATABASE_URL "${maskUrl(raw)}" is not a valid URL; expected postgres://user:pass@host:5432/db (percent-encode special characters in the password)`);
  }
}

/** Replaces the password of a URL (userinfo or `password=` parameter) with `***`. */
export function maskUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*:)[^@/?#]*@/i, '$1***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** A short description of a target, safe for logs. */
export function describeTarget(target: DatabaseTarget): string {
  return target.backend === 'sqlite' ? `sqlite:${target.path}` : maskUrl(target.connectionString);
}

/**
 * The DATABASE_URL a worker gets: this one, with a relative SQLite path made absolute so a child
 * process or a container (mounted at the same path) opens the same file.
 */
export function workerDatabaseUrl(target: DatabaseTarget): string {
  return target.backend === 'sqlite' ? `sqlite:${resolve(target.path)}` : target.connectionString;
}

/** The folder a worker container must mount to reach the database: a SQLite file's; null for a server. */
export function databaseFolder(target: DatabaseTarget): string | null {
  return target.backend === 'sqlite' ? dirname(resolve(target.path)) : null;
}

/** True for a database no other process can open (in-memory SQLite): workers cannot share it. */
export function isProcessLocal(target: DatabaseTarget): boolean {
  return target.backend === 'sqlite' && target.path === ':memory:';
}

/**
 * The same string for every process using this database (absolute SQLite path, server URL with
 * the password masked), so it can name a deployment without revealing a secret.
 */
export function databaseIdentity(target: DatabaseTarget): string {
  return target.backend === 'sqlite' ? `sqlite:${resolve(target.path)}` : maskUrl(target.connectionString);
}
